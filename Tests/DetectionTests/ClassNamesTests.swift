import Detection
import Foundation
import TestSupport
import Testing
import Torch

@Suite struct ClassNamesTests {
    /// The official `_classes_` buffer (character codes, −1 separators) decodes to one name per
    /// class of the checkpoint's config.
    @Test(.needsFixtures) func officialClassesBufferDecodes() throws {
        let w = try WeightFile.load(TestSupport.fixtures("salience_detr/tiny.pth"))
        let numClasses = try ModelConfig.load(contentsOf: TestSupport.fixtures("salience_detr/tiny.config.json"))
            .numClasses
        let names = COCOClassNames.names(from: w, numClasses: numClasses)
        #expect(names.count == numClasses)
        #expect(names[1] == "person" && names[18] == "dog", "\(names.prefix(20))")
    }

    @Test func metadataNamesWinAndGapsKeepDefaults() throws {
        let w = LoadedWeights(
            format: .safetensors, tensors: StateDict(), metadata: ["class_names": #"[null, "circle", "square"]"#])
        #expect(COCOClassNames.names(from: w, numClasses: 3) == ["class 0", "circle", "square"])
        #expect(COCOClassNames.names(from: w, numClasses: 4) == ["class 0", "class 1", "class 2", "class 3"])
    }
}
