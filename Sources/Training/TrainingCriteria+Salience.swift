import Detection

extension TrainingCriteria {
    /// Salience DETR training needs its hybrid criterion, denoising and salience loss.
    static func salience(config: ModelConfig) throws -> any TrainingCriterion {
        throw ConfigError(source: "", problem: "training salience_detr is not available in this build yet")
    }
}
