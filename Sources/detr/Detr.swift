import ArgumentParser
import Foundation
import Torch

/// The `detr` command-line tool.
@main
struct Detr: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detr",
        abstract: "Run, evaluate and train Salience DETR and Conditional DETR detectors (libtorch inside).",
        discussion: """
            Exit codes: 0 success, 1 a file/model/data problem (the message names it), \
            64 a usage error (bad arguments).
            """,
        version: "0.1.0",
        subcommands: [
            Predict.self, Serve.self, Evaluate.self, Train.self, Plot.self, ShowDataset.self, Inspect.self,
            Benchmark.self,
            Synth.self, Export.self, Convert.self,
        ]
    )

    static func main() async {
        // Every command runs forward passes that free and reallocate the same large tensors.
        Torch.keepFreedMemory()
        do {
            var command = try parseAsRoot(nil)
            if var service = command as? AsyncParsableCommand {
                try await service.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
        // What `print` buffered must reach standard output: a full disk or a closed pipe is an
        // error, not a silent success.
        if fflush(nil) != 0 {
            Terminal.error("standard output: cannot be written (\(String(cString: strerror(errno))))")
            Foundation.exit(1)
        }
    }
}
