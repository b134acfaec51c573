import Detection
import Foundation
import Testing
import TestSupport
import Torch

@Suite struct ClassNamesTests {
    /// The official `_classes_` buffer (character codes, −1 separators) decodes to 91 names.
    @Test func officialClassesBufferDecodes() throws {
        guard TestSupport.fixturesAvailable() else { return }
        let w = try WeightFile.load(TestSupport.sharedFixtures!.appendingPathComponent("salience_detr/tiny.pth"))
        let names = COCOClassNames.names(from: w, numClasses: 91)
        #expect(names.count == 91)
        #expect(names[1] == "person" && names[18] == "dog", "\(names.prefix(20))")
    }

    @Test func metadataNamesWinAndGapsKeepDefaults() throws {
        let w = LoadedWeights(format: .safetensors, tensors: StateDict(), metadata: ["class_names": #"[null, "circle", "square"]"#])
        #expect(COCOClassNames.names(from: w, numClasses: 3) == ["class 0", "circle", "square"])
        #expect(COCOClassNames.names(from: w, numClasses: 4) == ["class 0", "class 1", "class 2", "class 3"])
    }
}
