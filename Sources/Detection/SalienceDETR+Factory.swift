import NN

extension DetectorFactory {
    static func makeSalience(config: ModelConfig, store: ParameterStore) throws -> any Detector {
        SalienceDETR(store.root, config: config)
    }
}
