// swift-tools-version: 6.0
// (The line above must stay the first: `make format` leaves this file alone.)
import Foundation
import PackageDescription

// libtorch 2.x (C++20) is found through pkg-config: `swift-detr-libtorch.pc` gives its include
// paths and libraries. `make` (scripts/fetch_libtorch.sh) unpacks libtorch 2.13.0 from the torch
// wheel into .libtorch/ and points PKG_CONFIG_PATH at it; another libtorch 2.x is used by writing
// such a file for it (README, "Building").
//
// SwiftPM drops rpath flags from pkg-config files, so the executables of this package (the
// `detr` tool and the test bundles, never the library products, which stay free of unsafe flags
// and usable as dependencies) get an rpath to the libdir of that same .pc file: `detr` then runs
// from anywhere without LD_LIBRARY_PATH.
func libtorchLibDir() -> String {
    let fm = FileManager.default
    var dirs = (ProcessInfo.processInfo.environment["PKG_CONFIG_PATH"] ?? "")
        .split(separator: ":").map(String.init)
    dirs.append(Context.packageDirectory + "/.libtorch/lib/pkgconfig")
    for dir in dirs {
        let file = dir + "/swift-detr-libtorch.pc"
        guard fm.fileExists(atPath: file), let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            continue
        }
        var vars: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), !line.contains(":") || line.firstIndex(of: ":")! > eq else {
                continue
            }
            var value = String(line[line.index(after: eq)...])
            for (k, v) in vars { value = value.replacingOccurrences(of: "${\(k)}", with: v) }
            vars[String(line[..<eq])] = value
        }
        if let libdir = vars["libdir"] { return libdir }
    }
    return Context.packageDirectory + "/.libtorch/lib"
}

// The NCCL process-group backend needs a CUDA libtorch's headers (CUDA and NCCL included) and its
// libtorch_cuda: CTORCH_WITH_NCCL=1 compiles it in (the pkg-config file then has to list
// -ltorch_cuda). Without it, data-parallel training runs on Gloo only.
let ncclSettings: [CXXSetting] =
    ProcessInfo.processInfo.environment["CTORCH_WITH_NCCL"] == "1" ? [.define("CTORCH_WITH_NCCL")] : []

// A bundle for another machine (scripts/gpu-bundle.sh) links the shim as a shared library,
// libctorch.so, compiled there against that machine's libtorch: with SWIFT_DETR_SHARED_SHIM set,
// the CTorch module is the shim's C header alone, linked with -lctorch, and nothing links libtorch
// itself (the bundle script passes the library's folder and the rpath).
let sharedShim = ProcessInfo.processInfo.environment["SWIFT_DETR_SHARED_SHIM"].map { !$0.isEmpty } ?? false
let shimTarget: Target =
    sharedShim
    ? .systemLibrary(name: "CTorch", path: "Sources/CTorchShared")
    : .target(
        name: "CTorch",
        dependencies: ["CLibTorch"],
        cxxSettings: [
            .define("CTORCH_BUILD"),
            // The Gloo names libtorch's ProcessGroupGloo.hpp mentions (the wheel has no Gloo headers;
            // Sources/CTorch/distributed.cpp says why declaring them is enough).
            .headerSearchPath("gloo-declarations"),
        ] + ncclSettings
    )
let libtorchRpath: [LinkerSetting] =
    sharedShim ? [] : [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", libtorchLibDir()])]

let package = Package(
    name: "swift-detr",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Vision", targets: ["Vision"]),
        .library(name: "Detection", targets: ["Detection"]),
        .library(name: "COCO", targets: ["COCO"]),
        .library(name: "Diagnostics", targets: ["Diagnostics"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Records", targets: ["Records"]),
        .library(name: "Video", targets: ["Video"]),
        .library(name: "Serving", targets: ["Serving"]),
        .library(name: "Graphics", targets: ["Graphics"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "ONNX", targets: ["ONNX"]),
        // `swift package --allow-writing-to-package-directory fetch-libtorch` in a package that
        // depends on this one: libtorch into that package's .libtorch/ (README, "Using the library").
        .plugin(name: "FetchLibtorch", targets: ["FetchLibtorch"]),
        .executable(name: "detr", targets: ["detr"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Engine
        .systemLibrary(name: "CLibTorch", pkgConfig: "swift-detr-libtorch"),
        .plugin(
            name: "FetchLibtorch",
            capability: .command(
                intent: .custom(
                    verb: "fetch-libtorch", description: "Unpack libtorch into this package's .libtorch/"),
                permissions: [.writeToPackageDirectory(reason: "libtorch is unpacked into .libtorch/")])),
        shimTarget,
        // Errors: one shape for every module (no dependencies, so COCO stays free of libtorch)
        .target(name: "Diagnostics"),
        .target(name: "Torch", dependencies: ["CTorch", "Diagnostics"]),
        .target(name: "NN", dependencies: ["Diagnostics", "Torch"]),
        // Library
        .target(
            name: "CImage",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
        ),
        .target(name: "Vision", dependencies: ["Diagnostics", "CImage"]),
        .target(name: "Detection", dependencies: ["Diagnostics", "Torch", "NN", "Vision"]),
        .target(name: "COCO", dependencies: ["Diagnostics"]),
        // COCO-format datasets for detectors: loading, augmentation, batching, evaluation
        .target(name: "Datasets", dependencies: ["Diagnostics", "Torch", "Vision", "Detection", "COCO"]),
        // The training loop, runs, checkpoints and logs
        .target(
            name: "Training", dependencies: ["Diagnostics", "Torch", "NN", "Vision", "Detection", "COCO", "Datasets"]),
        // Video files through FFmpeg (libavformat, libavcodec, libswscale, libavutil; pkg-config)
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .target(
            name: "CVideo", dependencies: ["CFFmpeg"],
            linkerSettings: [
                .linkedLibrary("avformat"), .linkedLibrary("avcodec"), .linkedLibrary("swscale"),
                .linkedLibrary("avutil"),
            ]),
        .target(name: "Video", dependencies: ["Diagnostics", "Vision", "CVideo"]),
        // Drawing: cairo (found through pkg-config) behind a small Swift layer: canvas, text, charts
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .target(name: "Graphics", dependencies: ["Diagnostics", "Vision", "Records", "CCairo"]),
        // Pictures and tables for people: evaluation reports, training curves, dataset pictures
        .target(
            name: "Reports",
            dependencies: ["Diagnostics", "Vision", "Graphics", "COCO", "Datasets", "Training"]),
        // Records the tools write (one detection record, one JSON encoding)
        .target(name: "Records", dependencies: ["Diagnostics", "Vision"]),
        // The HTTP detection service (`detr serve`)
        .target(
            name: "Serving",
            dependencies: [
                "Diagnostics", "Torch", "Vision", "Detection", "Records", "Graphics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // ONNX model files: the generated onnx.proto messages (scripts/generate_onnx_proto.sh), then
        // reading, writing (external data included) and summarising models
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(
            name: "ONNX",
            dependencies: [
                "Diagnostics", "Torch", "NN", "Detection", "ONNXProto", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // CLI
        .executableTarget(
            name: "detr",
            dependencies: [
                "Diagnostics", "Torch", "NN", "Vision", "Detection", "COCO", "Datasets", "Training", "Records",
                "Serving", "Video", "Graphics", "Reports", "ONNX",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            linkerSettings: libtorchRpath
        ),
        // Tests
        .target(name: "TestSupport", dependencies: ["Torch", "Vision", "Detection", "Datasets"], path: "Tests/TestSupport"),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "TestSupport"], linkerSettings: libtorchRpath),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], linkerSettings: libtorchRpath),
        .testTarget(name: "VisionTests", dependencies: ["Vision", "TestSupport"], linkerSettings: libtorchRpath),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "TestSupport"], linkerSettings: libtorchRpath),
        .testTarget(name: "COCOTests", dependencies: ["COCO", "TestSupport"], linkerSettings: libtorchRpath),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "COCO", "Vision", "Diagnostics", "TestSupport"], linkerSettings: libtorchRpath),
        .testTarget(
            name: "TrainingTests", dependencies: ["Training", "Datasets", "Diagnostics", "TestSupport"],
            linkerSettings: libtorchRpath),
        .testTarget(
            name: "CLITests", dependencies: ["Torch", "Vision", "Video", "Datasets", "TestSupport"],
            linkerSettings: libtorchRpath),
        .testTarget(
            name: "VideoTests", dependencies: ["Video", "Vision", "Diagnostics"], linkerSettings: libtorchRpath),
        .testTarget(
            name: "GraphicsTests", dependencies: ["Graphics", "Vision", "TestSupport"], linkerSettings: libtorchRpath),
        .testTarget(
            name: "ReportsTests", dependencies: ["Reports", "Graphics", "COCO", "Training", "Vision", "TestSupport"],
            linkerSettings: libtorchRpath),
        .testTarget(
            name: "ServeTests",
            dependencies: [
                "Serving", "Records", "Detection", "Vision", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            linkerSettings: libtorchRpath),
        .testTarget(
            name: "ONNXTests", dependencies: ["ONNX", "ONNXProto", "Torch", "NN", "Vision", "Detection", "TestSupport"],
            linkerSettings: libtorchRpath),
    ],
    cxxLanguageStandard: .cxx20
)
