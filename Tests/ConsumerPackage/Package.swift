// swift-tools-version: 6.0
// A package that uses swift-detr as a dependency, as a new user's would: built and run by
// scripts/test-consumer.sh (which points the dependency at the checkout under test: a path dependency is named by its folder).
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [.package(path: "SWIFT_DETR_PATH")],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [
                .product(name: "Detection", package: "SWIFT_DETR_IDENTITY"),
                .product(name: "Vision", package: "SWIFT_DETR_IDENTITY"),
            ])
    ]
)
