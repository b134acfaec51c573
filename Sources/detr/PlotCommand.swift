import ArgumentParser
import Foundation
import Reports
import Training

/// `detr plot LOG.jsonl...`: training curves as pictures.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the training curves of training logs (log.jsonl of detr train) as PNG pictures.",
        discussion: """
            Writes losses.png (the weighted total and every term of the final prediction, each step thin and \
            smoothed thick), losses_aux.png (terms of auxiliary predictions: decoder layers _N, encoder _enc, \
            denoising _dn), lr.png and, when the log has evaluations, coco.png (the 12 COCO numbers per \
            evaluation). Several logs are drawn on the same charts, one colour per run, named after their \
            directory (runs/a/log.jsonl is "a"). A log still being written can be plotted. Prints the files written.
            """)

    @Argument(help: "Training logs; several are compared on the same charts.")
    var logs: [String]

    @Option(name: .shortAndLong, help: "Directory for the pictures (default: plots/ beside the first log).")
    var output: String?

    @Option(help: "Smoothing weight in [0, 1) of the loss curves; 0 = none (default: about 3% of the steps).")
    var smoothing: Double?

    func validate() throws {
        guard !logs.isEmpty else { throw ValidationError("give at least one training log (log.jsonl)") }
        if let smoothing, !(smoothing >= 0 && smoothing < 1) {
            throw ValidationError("--smoothing must lie in [0, 1), got \(smoothing)")
        }
    }

    /// A legend name per log: its directory for `log.jsonl`, else its file name without the
    /// extension; the paths as given when two names would be equal.
    static func runNames(_ logs: [String]) -> [String] {
        let names = logs.map { path -> String in
            let url = URL(fileURLWithPath: path)
            let stem = url.deletingPathExtension().lastPathComponent
            return stem == "log" ? url.deletingLastPathComponent().lastPathComponent : stem
        }
        return Set(names).count == names.count ? names : logs
    }

    func run() throws {
        let directory =
            output
            ?? URL(fileURLWithPath: logs[0]).deletingLastPathComponent().appendingPathComponent("plots").relativePath
        let written: [String]
        do {
            let runs = try zip(logs, Self.runNames(logs)).map { path, name in
                TrainingCurves.Run(
                    name: name,
                    records: try TrainingLogRecords(contentsOf: URL(fileURLWithPath: path), displayName: path))
            }
            let figures = try TrainingCurves(runs: runs, smoothing: smoothing).figures()
            let staged = try StagedOutput(destination: URL(fileURLWithPath: directory))
            for figure in figures { try staged.write(try figure.image.encoded(.png), to: figure.name) }
            written = try staged.commit()
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        for name in written { print(URL(fileURLWithPath: directory).appendingPathComponent(name).relativePath) }
    }
}
