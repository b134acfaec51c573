import Detection

/// The criterion of each architecture's official recipe.
public enum TrainingCriteria {
    public static func make(for config: ModelConfig) throws -> any TrainingCriterion {
        switch config.architecture {
        case .conditionalDetr:
            return ConditionalDETRCriterion(config: config)
        case .salienceDetr:
            return try salience(config: config)
        }
    }
}
