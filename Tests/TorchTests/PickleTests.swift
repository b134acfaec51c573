import Foundation
import TestSupport
import Testing
import Torch

/// The pickle reader on Python's own pickles (protocols 0-5, `pickles.json` from generate.py)
/// and on hostile input.
@Suite struct PickleTests {
    struct Case: Decodable {
        var name: String
        var `protocol`: Int
        var hex: String
        var canonical: String?
    }

    static func cases() throws -> [Case] {
        try JSONDecoder().decode([Case].self, from: Data(contentsOf: TestSupport.localFixture("weights/pickles.json")))
    }

    static func bytes(hex: String) -> Data {
        var out = Data()
        var it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
        return out
    }

    /// The rendering generate.py's `canon` produces for the same Python value.
    static func canonical(_ v: PickleValue) -> String {
        switch v {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .bigInt(let b): return decimal(b)
        case .float(let d): return "\(d)"
        case .string(let s): return "'\(s)'"
        case .bytes(let b): return "b:" + b.map { String(format: "%02x", $0) }.joined()
        case .list(let v): return "[" + v.map(canonical).joined(separator: ", ") + "]"
        case .tuple(let v): return "(" + v.map(canonical).joined(separator: ", ") + ")"
        case .set(let v, let frozen):
            return (frozen ? "frozenset{" : "set{") + v.map(canonical).joined(separator: ", ") + "}"
        case .dict(let d):
            let body = d.entries.map { "\(canonical($0.key)): \(canonical($0.value))" }.joined(separator: ", ")
            return (d.isOrdered ? "OrderedDict{" : "{") + body + "}"
        default: return v.summary
        }
    }

    /// Decimal text of a two's-complement little-endian integer.
    static func decimal(_ bytes: [UInt8]) -> String {
        let negative = (bytes.last ?? 0) & 0x80 != 0
        var magnitude = bytes  // little-endian
        if negative {  // two's complement negation
            var carry = 1
            for i in magnitude.indices {
                let v = Int(~magnitude[i]) + carry
                magnitude[i] = UInt8(v & 0xFF)
                carry = v >> 8
            }
        }
        var digits: [Character] = []
        while magnitude.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in magnitude.indices.reversed() {
                let v = remainder << 8 | Int(magnitude[i])
                magnitude[i] = UInt8(v / 10)
                remainder = v % 10
            }
            digits.append(Character(String(remainder)))
        }
        return (negative ? "-" : "") + (digits.isEmpty ? "0" : String(digits.reversed()))
    }

    @Test func readsPythonPicklesOfEveryProtocol() throws {
        let cases = try Self.cases().filter { $0.canonical != nil }
        #expect(cases.count > 60)
        for c in cases {
            let value = try Pickle.load(Self.bytes(hex: c.hex), name: "\(c.name)@\(c.protocol)")
            #expect(Self.canonical(value) == c.canonical, "\(c.name) protocol \(c.protocol)")
        }
    }

    @Test func keepsUnknownClassesAsObjects() throws {
        for c in try Self.cases() where c.name == "namespace" {
            let value = try Pickle.load(Self.bytes(hex: c.hex))
            guard case .object(let o) = value else {
                Issue.record("protocol \(c.protocol): \(value.summary)"); continue
            }
            #expect(o.className == "argparse.Namespace", "protocol \(c.protocol)")
            #expect(value["lr"]?.double == 0.5, "protocol \(c.protocol)")
            #expect(value["name"]?.string == "x", "protocol \(c.protocol)")
            #expect(value.summary == "argparse.Namespace with 2 attributes")
        }
    }

    @Test func breaksReferenceCycles() throws {
        let c = try #require(try Self.cases().first { $0.name == "recursive" })
        let value = try Pickle.load(Self.bytes(hex: c.hex))
        guard case .list(let items) = value, case .object(let o)? = items.first else {
            Issue.record("unexpected \(value.summary)")
            return
        }
        #expect(o.className == "<recursive reference>")
    }

    static func unicode(_ s: String) -> [UInt8] {
        [0x58] + withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian, Array.init) + Array(s.utf8)
    }

    static func global(_ module: String, _ name: String) -> [UInt8] {
        [0x63] + Array("\(module)\n\(name)\n".utf8)
    }

    /// `\x80\x02` + body + STOP.
    static func pickle(_ body: [UInt8]) -> Data { Data([0x80, 0x02] + body + [0x2E]) }

    static func problem(_ body: [UInt8]) -> String {
        do {
            let v = try Pickle.load(pickle(body), name: "p")
            return "loaded \(v.summary)"
        } catch let error as FileError {
            return error.problem
        } catch {
            return "\(error)"
        }
    }

    @Test func refusesHostileInput() {
        // Lengths beyond the input (BINUNICODE, BINBYTES8, LONG4) are refused before allocating.
        #expect(Self.problem([0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x61]).hasPrefix("truncated pickle"))
        #expect(Self.problem([0x8E] + [UInt8](repeating: 0xFF, count: 8)).hasPrefix("truncated pickle"))
        #expect(Self.problem([0x8B, 0xFF, 0xFF, 0xFF, 0xFF]) == "negative LONG4 length at byte 2")
        #expect(Self.problem([0x95] + [UInt8](repeating: 0xFF, count: 8)).hasPrefix("truncated pickle"))
        #expect(Self.problem([0x82, 0x01]) == "pickle opcode 0x82 not supported at byte 2")
        #expect(Self.problem([0xFF]) == "pickle opcode 0xff not supported at byte 2")
        #expect(Self.problem([]) == "pickle stack underflow at byte 2")
        #expect(Self.problem([0x68, 0x05]) == "pickle memo entry 5 is undefined at byte 2")
        #expect(Self.problem([0x4E, 0x4E, 0x61]) == "APPEND to a None at byte 4")
        #expect(Self.problem([0x28, 0x4E]) == "pickle ends inside a MARK at byte 4")
        #expect(Self.problem([0x75]) == "pickle MARK missing at byte 2")
        #expect(Self.problem([0x4E, 0x4E, 0x52]) == "REDUCE arguments are a None, not a tuple at byte 4")
        #expect(Self.problem([0x80, 0x09]) == "unsupported pickle protocol 9 at byte 2")
        // A persistent id ('storage', 1, 'k', 'cpu', 1) whose storage type is not a class.
        let pid =
            [0x28] + Self.unicode("storage") + [0x4B, 1] + Self.unicode("k") + Self.unicode("cpu") + [
                0x4B, 1, 0x74, 0x51,
            ]
        #expect(Self.problem(pid) == "storage type is a int at byte 34")
        // Persistent ids in a standalone pickle name storages nobody supplies.
        let storagePid =
            [0x28] + Self.unicode("storage") + Self.global("torch", "FloatStorage") + Self.unicode("k")
            + Self.unicode("cpu") + [0x4B, 1, 0x74, 0x51]
        #expect(Self.problem(storagePid) == "loaded torch.FloatStorage")
    }

    @Test func refusesDeepNesting() {
        // 100,000 nested lists: refused without overflowing the stack, in conversion or teardown.
        let depth = 100_000
        let body = [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1)
        #expect(Self.problem(body).hasPrefix("values nested deeper than 100 levels"))
        // The same depth built bottom-up through the memo.
        var memoChain: [UInt8] = []
        for i in 0..<2000 { memoChain += [0x5D, 0x72] + withUnsafeBytes(of: UInt32(i).littleEndian, Array.init) }
        for i in 0..<1999 {
            memoChain += [0x6A] + withUnsafeBytes(of: UInt32(i).littleEndian, Array.init)
            memoChain += [0x6A] + withUnsafeBytes(of: UInt32(i + 1).littleEndian, Array.init) + [0x61, 0x30]
        }
        memoChain += [0x30, 0x6A, 0, 0, 0, 0]
        #expect(Self.problem(memoChain).hasPrefix("values nested deeper than 100 levels"))
        #expect(Self.problem([UInt8](repeating: 0x28, count: 20_000)) == "pickle MARKs nested too deeply at byte 10002")
    }

    @Test func sharedSubtreesAreConvertedOnce() throws {
        // t = []; 60 times: t = (t, t). 2^60 paths, 61 distinct nodes.
        var body: [UInt8] = [0x5D, 0x71, 0x00]
        for _ in 0..<60 { body += [0x68, 0x00, 0x68, 0x00, 0x86, 0x71, 0x00] }
        let value = try Pickle.load(Self.pickle(body))
        #expect(value.summary == "tuple with 2 items")
    }
}
