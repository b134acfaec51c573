import Foundation

/// Writing to the terminal: errors, notes and a progress line that only appears on a TTY.
enum Terminal {
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    /// `detr: error: message` on stderr.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("detr: error: \(message)\n".utf8))
    }

    /// A note on stderr (suppressed by --quiet).
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }
}

/// A single-line progress bar on stderr, redrawn in place; silent when stderr is not a terminal.
final class ProgressBar {
    /// Adjustable while running (a video's frame count is an estimate until it has been read).
    var total: Int
    let label: String
    let enabled: Bool
    /// Characters of `detail` shown (its end).
    let detailWidth: Int
    /// Written after the rate ("/s", " frames/s").
    let unit: String
    private var done = 0
    /// When the first items were counted, and how many: the rate is measured from there (a bar
    /// made after its first batch would otherwise divide that batch by almost no time).
    private var baseline: (time: Date, done: Int)?
    var doneCount: Int { done }
    /// The rate is shown once this many items have passed since the baseline.
    static let itemsBeforeRate = 3

    init(total: Int, label: String, enabled: Bool = Terminal.stderrIsTTY, detailWidth: Int = 40, unit: String = "/s") {
        self.total = total
        self.label = label
        self.enabled = enabled && total > 0
        self.detailWidth = detailWidth
        self.unit = unit
    }

    func advance(by n: Int = 1, detail: String = "") {
        done += n
        guard enabled else { return }
        let fraction = total > 0 ? Swift.min(1, Double(done) / Double(total)) : 1
        let width = 28
        let filled = Int(fraction * Double(width))
        let now = Date()
        let base = baseline ?? (now, done)
        baseline = base
        let elapsed = now.timeIntervalSince(base.time)
        let counted = done - base.done
        let speed: String
        let eta: String
        if counted >= Self.itemsBeforeRate && elapsed > 0 {
            let rate = Double(counted) / elapsed
            speed = String(format: "%.1f%@", rate, unit)
            eta = Self.clock(Double(Swift.max(0, total - done)) / rate)
        } else {
            speed = "-" + unit
            eta = "-:--"
        }
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let text = String(
            format: "\r%@ %@ %d/%d  %@  ETA %@  %@", label, bar, done, total, speed, eta,
            String(detail.suffix(detailWidth)))
        FileHandle.standardError.write(Data((text + "\u{1B}[K").utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%d:%02d", s / 60, s % 60)
    }
}
