// swift-tools-version: 6.0
import PackageDescription
import Foundation

// Debian's libtorch 1.13 headers need C++17 and fail under C++20; libtorch 2.x
// needs C++20. CTORCH_CXX20=1 selects the latter (for a CUDA build against a
// PyPI libtorch, see README).
let useCxx20 = ProcessInfo.processInfo.environment["CTORCH_CXX20"] == "1"

let package = Package(
    name: "swift-detr",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Vision", targets: ["Vision"]),
        .library(name: "Detection", targets: ["Detection"]),
        .library(name: "COCO", targets: ["COCO"]),
        .library(name: "Training", targets: ["Training"]),
        .executable(name: "detr", targets: ["detr"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Engine
        .target(
            name: "CTorch",
            cxxSettings: [.define("CTORCH_BUILD")],
            linkerSettings: [.linkedLibrary("torch_cpu"), .linkedLibrary("c10")]
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        .target(name: "NN", dependencies: ["Torch"]),
        // Library
        .target(
            name: "CImage",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
        ),
        .target(name: "Vision", dependencies: ["Torch", "CImage"]),
        .target(name: "Detection", dependencies: ["Torch", "NN", "Vision"]),
        .target(name: "COCO", dependencies: []),
        .target(name: "Training", dependencies: ["Torch", "NN", "Vision", "Detection", "COCO"]),
        // CLI
        .executableTarget(
            name: "detr",
            dependencies: ["Torch", "NN", "Vision", "Detection", "COCO", "Training", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Tests
        .target(name: "TestSupport", dependencies: ["Torch", "Detection"], path: "Tests/TestSupport"),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"]),
        .testTarget(name: "VisionTests", dependencies: ["Vision", "TestSupport"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "TestSupport"]),
        .testTarget(name: "COCOTests", dependencies: ["COCO", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Torch", "Vision", "TestSupport"]),
    ],
    cxxLanguageStandard: useCxx20 ? .cxx20 : .cxx17
)
