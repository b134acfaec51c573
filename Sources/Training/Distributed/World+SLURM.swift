import Torch

/// A world from the variables `srun` gives each task: `SLURM_PROCID` (rank), `SLURM_NTASKS`
/// (size), `SLURM_LOCALID` (rank on the node) and the first host of `SLURM_JOB_NODELIST` as the
/// rendezvous address, where rank 0 runs in SLURM's block distribution. `MASTER_ADDR` and
/// `MASTER_PORT` override them; without `MASTER_PORT` the port is 15000 + the last four digits
/// of `SLURM_JOB_ID`, so that every task of a job computes the same one (Lightning's rule).
extension World {
    /// The world of an `srun` step, or nil outside one (no `SLURM_PROCID`, or one task). A batch
    /// script that runs `detr train` without `srun` is one process.
    /// - Throws: `ProcessGroupError` naming the variable that is missing or invalid
    public static func fromSLURM(_ env: [String: String]) throws -> World? {
        guard env["SLURM_STEP_ID"] != nil || env["SLURM_STEPID"] != nil, let rankText = env["SLURM_PROCID"],
            let sizeText = env["SLURM_NTASKS"]
        else { return nil }
        guard let size = Int(sizeText), (1...65_536).contains(size) else {
            throw ProcessGroupError(message: "SLURM_NTASKS=\(sizeText) is not an integer in 1...65536")
        }
        guard size > 1 else { return nil }
        guard let rank = Int(rankText), (0..<size).contains(rank) else {
            throw ProcessGroupError(message: "SLURM_PROCID=\(rankText) is not an integer in 0...\(size - 1)")
        }
        let localRank = try env["SLURM_LOCALID"].map { text in
            guard let v = Int(text), (0..<size).contains(v) else {
                throw ProcessGroupError(message: "SLURM_LOCALID=\(text) is not an integer in 0...\(size - 1)")
            }
            return v
        } ?? 0
        let address: String
        if let given = env["MASTER_ADDR"] {
            address = given
        } else {
            guard let list = env["SLURM_JOB_NODELIST"] ?? env["SLURM_NODELIST"] else {
                throw ProcessGroupError(message: "SLURM_JOB_NODELIST is not set (SLURM_NTASKS is \(size)): set MASTER_ADDR")
            }
            guard let first = try SLURMNodeList.expand(list).first else {
                throw ProcessGroupError(message: "SLURM_JOB_NODELIST='\(list)' names no host")
            }
            address = first
        }
        let port: Int
        if let text = env["MASTER_PORT"] {
            guard let v = Int(text), (1...65_535).contains(v) else {
                throw ProcessGroupError(message: "MASTER_PORT=\(text) is not an integer in 1...65535")
            }
            port = v
        } else if let job = env["SLURM_JOB_ID"], let digits = Int(String(job.suffix(4))), job.allSatisfy(\.isNumber) {
            port = 15_000 + digits
        } else {
            throw ProcessGroupError(message: "MASTER_PORT is not set and SLURM_JOB_ID gives none: set MASTER_PORT")
        }
        return World(rank: rank, size: size, localRank: localRank, masterAddress: address, masterPort: port)
    }
}

/// SLURM's compact host lists, expanded as `scontrol show hostnames` expands them:
/// `node[01-03,07],gpu5` → node01 node02 node03 node07 gpu5; a name may hold several bracket
/// groups (`rack[1-2]-n[1-2]` → rack1-n1 rack1-n2 rack2-n1 rack2-n2) and ranges keep the
/// zero padding of their first number.
public enum SLURMNodeList {
    /// - Throws: `ProcessGroupError` for unbalanced brackets or a malformed range
    public static func expand(_ list: String) throws -> [String] {
        var hosts: [String] = []
        for item in try split(list) where !item.isEmpty { hosts += try expandName(Substring(item), list: list) }
        return hosts
    }

    /// The comma-separated names at bracket depth 0.
    private static func split(_ list: String) throws -> [String] {
        var items: [String] = [], current = "", depth = 0
        for c in list {
            switch c {
            case "[": depth += 1
            case "]":
                depth -= 1
                if depth < 0 { throw malformed(list, "a ']' without '['") }
            case "," where depth == 0:
                items.append(current)
                current = ""
                continue
            default: break
            }
            current.append(c)
        }
        if depth != 0 { throw malformed(list, "a '[' without ']'") }
        items.append(current)
        return items
    }

    private static func expandName(_ name: Substring, list: String) throws -> [String] {
        guard let open = name.firstIndex(of: "[") else { return [String(name)] }
        guard let close = name[open...].firstIndex(of: "]") else { throw malformed(list, "a '[' without ']'") }
        let prefix = name[..<open], rest = name[name.index(after: close)...]
        var values: [String] = []
        for part in name[name.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
                let lo = Int(bounds[0]), let hi = Int(bounds[bounds.count - 1]), lo <= hi, hi - lo < 100_000
            else { throw malformed(list, "'\(part)' is not a number or a range a-b") }
            let width = bounds[0].count
            for v in lo...hi {
                let digits = String(v)
                values.append(String(repeating: "0", count: max(0, width - digits.count)) + digits)
            }
        }
        let tails = try expandName(rest, list: list)
        return values.flatMap { v in tails.map { prefix + v + $0 } }
    }

    private static func malformed(_ list: String, _ why: String) -> ProcessGroupError {
        ProcessGroupError(message: "SLURM_JOB_NODELIST='\(list)' cannot be read: \(why)")
    }
}
