import Foundation
import TestSupport
import Testing
import Torch

/// `ip` from iproute2, and whether this process may make network namespaces.
enum NetworkNamespaces {
    /// Asked for (`DETR_MULTINODE`, then a missing capability fails the test), or possible here: a
    /// probe namespace and a veth pair inside it can be made (deleting the namespace deletes both).
    static let available: Bool = {
        if ProcessInfo.processInfo.environment["DETR_MULTINODE"] != nil { return true }
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { return false }
        let probe = "detr-mn-probe"
        guard (try? ip(["netns", "add", probe], check: false)) == 0 else { return false }
        let veth = (try? ip(["-n", probe, "link", "add", "detr-pr-a", "type", "veth", "peer", "name", "detr-pr-b"], check: false)) == 0
        return (try? ip(["netns", "del", probe], check: false)) == 0 && veth
    }()

    @discardableResult
    static func ip(_ args: [String], check: Bool = true) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if check && p.terminationStatus != 0 {
            throw FileError(file: "ip", problem: "ip \(args.joined(separator: " ")) exited \(p.terminationStatus)")
        }
        return p.terminationStatus
    }
}

/// Data-parallel training across two hosts (`make test-multinode`; in the default suite too
/// wherever this process may make network namespaces: root with iproute2).
/// Two network namespaces joined by a veth pair stand for two machines (their addresses exist only
/// inside them; both are deleted afterwards, also when the test fails): ranks 0-1 run in the
/// first, 2-3 in the second, over Gloo on the veth (`GLOO_SOCKET_IFNAME`, `MASTER_ADDR` the first
/// namespace's address), and the run equals the same 4-process job on one host (`--nproc 4`).
@Suite(
    .serialized,
    .enabled(if: NetworkNamespaces.available, "needs network namespaces (root and iproute2); DETR_MULTINODE=1 insists"))
struct MultiNodeCLITests {
    static let hosts = [(namespace: "detr-mn-a", device: "detr-veth-a", address: "10.203.0.1"),
                        (namespace: "detr-mn-b", device: "detr-veth-b", address: "10.203.0.2")]

    static func removeHosts() {
        for h in hosts { _ = try? NetworkNamespaces.ip(["netns", "del", h.namespace], check: false) }
    }

    /// The two namespaces, joined and addressed.
    static func makeHosts() throws {
        removeHosts()  // a killed earlier run's
        for h in hosts { try NetworkNamespaces.ip(["netns", "add", h.namespace]) }
        try NetworkNamespaces.ip(["link", "add", hosts[0].device, "type", "veth", "peer", "name", hosts[1].device])
        for h in hosts {
            try NetworkNamespaces.ip(["link", "set", h.device, "netns", h.namespace])
            try NetworkNamespaces.ip(["-n", h.namespace, "addr", "add", h.address + "/24", "dev", h.device])
            try NetworkNamespaces.ip(["-n", h.namespace, "link", "set", h.device, "up"])
            try NetworkNamespaces.ip(["-n", h.namespace, "link", "set", "lo", "up"])
        }
    }

    /// Runs `command` in `namespace` with `environment` added, its stderr to `stderr`.
    static func start(_ command: [String], in namespace: String, environment: [String: String], stderr: URL) throws
        -> Process
    {
        try DistributedTrainCLITests.start(
            ["netns", "exec", namespace] + command, executable: URL(fileURLWithPath: "/usr/sbin/ip"),
            environment: environment, stderr: stderr)
    }

    /// The same run's logs and weights: as many step records, losses within 1e-5 (relative), and
    /// identical weights (the same ranks in the same ring reduce in the same order).
    static func expectSameRun(_ local: String, _ other: String) throws {
        let a = try DistributedTrainCLITests.records(local + "/log.jsonl")
        let b = try DistributedTrainCLITests.records(other + "/log.jsonl")
        #expect(a.count == b.count && a.count >= 8, "\(a.count) and \(b.count) log records")
        let worst = try DistributedTrainCLITests.worstLossDifference(a, b)
        #expect(worst < 1e-5, "largest relative loss difference \(worst)")
        let ta = try DistributedTrainCLITests.modelTensors(local + "/checkpoint.safetensors")
        let tb = try DistributedTrainCLITests.modelTensors(other + "/checkpoint.safetensors")
        #expect(ta.count == tb.count && ta.count > 0)
        for (key, t) in ta {
            #expect(TestSupport.maxAbsDiff(t, try #require(tb[key], "\(key)")) == 0, "\(key)")
        }
    }

    /// torchrun (`DETR_TORCHRUN`, e.g. from `make test-multinode`'s venv), one agent per host with
    /// c10d rendezvous at the first host; the workers are `detr train` (`--no-python`).
    static func torchrun(
        _ detrArgs: [String], directory: URL, port: Int, restarts: Int = 0
    ) throws -> [Process] {
        let torchrun = try #require(ProcessInfo.processInfo.environment["DETR_TORCHRUN"])
        return try (0..<2).map { node in
            let host = hosts[node]
            return try start(
                [
                    torchrun, "--nnodes", "2", "--nproc-per-node", "2", "--node-rank", "\(node)", "--rdzv-backend",
                    "c10d", "--rdzv-endpoint", "\(hosts[0].address):\(port)", "--rdzv-conf",
                    "is_host=\(node == 0)", "--local-addr", host.address, "--max-restarts", "\(restarts)",
                    "--no-python", DetrProcess.executable.path,
                ] + detrArgs, in: host.namespace,
                environment: ["GLOO_SOCKET_IFNAME": host.device, "CTORCH_NUM_THREADS": "1"],
                stderr: directory.appendingPathComponent("torchrun\(node)"))
        }
    }

    static func torchrunLog(_ dir: URL) -> String {
        (0..<2).map { (try? String(contentsOf: dir.appendingPathComponent("torchrun\($0)"), encoding: .utf8)) ?? "" }
            .joined(separator: "\n---\n")
    }

    /// `torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d ... --no-python detr train`
    /// across the two hosts, with the agent's store (TORCHELASTIC_USE_AGENT_STORE=True): the run
    /// equals the 4-process run on one host.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DETR_TORCHRUN"] != nil, "set DETR_TORCHRUN"))
    func torchrunAcrossTwoHosts() throws {
        try Self.compareWithOneHost { dir, args in
            let out = dir.appendingPathComponent("torchrun").path
            let agents = try Self.torchrun(args(out), directory: dir, port: 29612)
            defer { for p in agents where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
            for p in agents {
                try #require(DistributedTrainCLITests.waitForExit(p, seconds: 300), "\(Self.torchrunLog(dir))")
            }
            #expect(agents.allSatisfy { $0.terminationStatus == 0 }, "\(Self.torchrunLog(dir))")
            return out
        }
    }

    /// torchrun with `--max-restarts 1`, a checkpoint after every step (`--checkpoint-every 1`)
    /// and one worker of the second host killed (SIGKILL) inside the second epoch: the agents
    /// restart the whole group, the new workers (whose restart counts differ by host: each agent
    /// counts its own workers' failures) meet at the agent's store, where the dead group's keys
    /// still are, continue from the checkpoint inside that epoch, and the run ends as the
    /// uninterrupted 4-process run on one host: the same steps, losses and weights.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DETR_TORCHRUN"] != nil, "set DETR_TORCHRUN"))
    func elasticRestartAfterAKilledWorker() throws {
        try Self.compareWithOneHost(epochs: 3) { dir, args in
            let reference = try DistributedTrainCLITests.records(dir.appendingPathComponent("one-host/log.jsonl").path)
            let stepsPerEpoch = reference.filter { ($0["epoch"] as? Int) == 0 }.count
            let out = dir.appendingPathComponent("elastic").path
            let agents = try Self.torchrun(
                args(out) + ["--checkpoint-every", "1"], directory: dir, port: 29613, restarts: 1)
            defer { for p in agents where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
            // The first step of the second epoch is logged (and its checkpoint written).
            DistributedTrainCLITests.waitForLog(out + "/log.jsonl", lines: stepsPerEpoch + 1) {
                agents.allSatisfy(\.isRunning)
            }
            let victim = try #require(
                DistributedTrainCLITests.workers(of: agents[1].processIdentifier)[3], "\(Self.torchrunLog(dir))")
            let logged = try DistributedTrainCLITests.records(out + "/log.jsonl").count
            #expect(logged < reference.count, "the run finished before a worker could be killed")
            kill(victim, SIGKILL)
            for p in agents {
                try #require(DistributedTrainCLITests.waitForExit(p, seconds: 300), "\(Self.torchrunLog(dir))")
            }
            // The killed worker's failure was seen, and yet both agents succeeded: the group restarted.
            #expect(Self.torchrunLog(dir).contains("exitcode: -9"), "\(Self.torchrunLog(dir))")
            #expect(agents.allSatisfy { $0.terminationStatus == 0 }, "\(Self.torchrunLog(dir))")
            return out
        }
    }

    /// The workspace, the two hosts and the 4-process run on one host (`--nproc 4`, batch 1 each,
    /// `epochs` epochs); `body` runs the same job its own way (given the arguments for an output
    /// directory) and returns its output, which must equal the one-host run's.
    static func compareWithOneHost(epochs: Int = 2, _ body: (URL, (String) -> [String]) throws -> String) throws {
        let w = try DistributedTrainCLITests.workspace(images: 16)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        try makeHosts()
        defer { removeHosts() }
        let args = { (out: String) in
            DistributedTrainCLITests.trainArgs(w, output: out) + ["--batch-size", "1", "--epochs", "\(epochs)"]
        }
        let local = w.dir.appendingPathComponent("one-host").path
        let reference = try DetrProcess.run(args(local) + ["--nproc", "4"], environment: ["CTORCH_NUM_THREADS": "1"])
        #expect(reference.status == 0, "\(reference.stderr)")
        try expectSameRun(local, try body(w.dir, args))
    }

    @Test func twoHostsEqualOneHost() throws {
        try Self.compareWithOneHost { dir, args in
            let out = dir.appendingPathComponent("two-hosts").path
            var ranks: [Process] = []
            defer { for p in ranks where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
            for rank in 0..<4 {
                let host = Self.hosts[rank / 2]
                ranks.append(
                    try Self.start(
                        [DetrProcess.executable.path] + args(out), in: host.namespace,
                        environment: [
                            "RANK": "\(rank)", "LOCAL_RANK": "\(rank % 2)", "WORLD_SIZE": "4",
                            "MASTER_ADDR": Self.hosts[0].address, "MASTER_PORT": "29611",
                            "GLOO_SOCKET_IFNAME": host.device, "CTORCH_NUM_THREADS": "1",
                        ], stderr: dir.appendingPathComponent("stderr\(rank)")))
            }
            for p in ranks { try #require(DistributedTrainCLITests.waitForExit(p, seconds: 300)) }
            let messages = (0..<4).map {
                (try? String(contentsOf: dir.appendingPathComponent("stderr\($0)"), encoding: .utf8)) ?? ""
            }
            #expect(ranks.allSatisfy { $0.terminationStatus == 0 }, "\(messages)")
            return out
        }
    }
}
