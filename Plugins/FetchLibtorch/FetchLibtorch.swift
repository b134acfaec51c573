import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory fetch-libtorch`, run in a package that
/// depends on swift-detr: unpacks libtorch (from PyTorch's torch wheel, as swift-detr's own
/// bootstrap does) into that package's `.libtorch/` and prints the two settings that build and run
/// against it. Idempotent; `LIBTORCH_VERSION` and `TORCH=cuda` work as for the bootstrap.
@main
struct FetchLibtorch: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let script = try Self.detrDirectory(context).appendingPathComponent("scripts/fetch_libtorch.sh")
        let destination = context.package.directoryURL.appendingPathComponent(".libtorch")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", script.path]
        var environment = ProcessInfo.processInfo.environment
        environment["LIBTORCH_DEST"] = destination.path
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PluginFailure("fetch-libtorch: \(script.path) failed (exit \(process.terminationStatus))")
        }
        let lib = destination.appendingPathComponent("lib").path
        print(
            """
            libtorch is in \(destination.path). Build and run with:
              export PKG_CONFIG_PATH=\(lib)/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
              export LD_LIBRARY_PATH=\(lib)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
            """)
    }

    /// The checkout of swift-detr: the package itself, or the dependency of that name.
    static func detrDirectory(_ context: PluginContext) throws -> URL {
        var queue = [context.package]
        var seen = Set<String>()
        while let package = queue.first {
            queue.removeFirst()
            guard seen.insert(package.id).inserted else { continue }
            let script = package.directoryURL.appendingPathComponent("scripts/fetch_libtorch.sh")
            if FileManager.default.fileExists(atPath: script.path) && package.displayName == "swift-detr" {
                return package.directoryURL
            }
            queue += package.dependencies.map(\.package)
        }
        throw PluginFailure("fetch-libtorch: swift-detr is not among this package's dependencies")
    }
}

struct PluginFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
