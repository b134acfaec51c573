import COCO
import Testing

@Test func cocoModuleLinks() { _ = COCO.self }
