import Testing
import Training

@Test func trainingModuleLinks() { _ = Training.self }
