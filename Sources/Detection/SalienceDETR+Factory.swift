import NN

extension DetectorFactory {
    /// Salience DETR is built once its module lands; until then a clear error.
    static func makeSalience(config: ModelConfig, store: ParameterStore) throws -> any Detector {
        throw ConfigError(source: "", problem: "the salience_detr architecture is not available in this build yet")
    }
}
