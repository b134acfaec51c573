import Diagnostics
import Foundation

/// A set of files that appears in its destination directory all at once or not at all.
///
/// Files are written into a hidden staging directory inside the destination (so the final
/// moves are renames on one file system) and moved into place by `commit()`; anything thrown
/// before that leaves the destination as it was (a destination created for the output is
/// removed again). Files of the same names are replaced, other files are left alone.
public final class StagedOutput {
    public let destination: URL
    let staging: URL
    let createdDestination: Bool
    private(set) var paths: [String] = []
    private var finished = false

    /// Creates the destination (and its parents) when missing, and the staging directory.
    /// - Throws: `FileError` naming the destination.
    public init(destination: URL) throws {
        let fm = FileManager.default
        self.destination = destination
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: destination.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw FileError(file: destination.relativePath, problem: "exists and is not a directory")
        }
        createdDestination = !exists
        staging = destination.appendingPathComponent(".staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw FileError(
                file: destination.relativePath, problem: "cannot create the directory (\(Self.reason(error)))")
        }
    }

    deinit { if !finished { discard() } }

    /// Stages `data` as `relativePath` (which may name subdirectories, e.g. `curves/car.png`).
    public func write(_ data: Data, to relativePath: String) throws {
        let url = staging.appendingPathComponent(relativePath)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        } catch {
            throw FileError(
                file: destination.appendingPathComponent(relativePath).relativePath,
                problem: "cannot be written (\(Self.reason(error)))")
        }
        paths.append(relativePath)
    }

    /// Moves every staged file into the destination and removes the staging directory.
    /// - Returns: the files, as paths relative to the destination, in the order written.
    @discardableResult
    public func commit() throws -> [String] {
        let fm = FileManager.default
        for path in paths {
            let target = destination.appendingPathComponent(path)
            do {
                try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                guard rename(staging.appendingPathComponent(path).path, target.path) == 0 else {
                    throw FileError(file: target.relativePath, problem: String(cString: strerror(errno)))
                }
            } catch {
                throw FileError(file: target.relativePath, problem: "cannot be written (\(Self.reason(error)))")
            }
        }
        try? fm.removeItem(at: staging)
        finished = true
        return paths
    }

    /// Removes what was staged (and the destination, when it was created for this output).
    public func discard() {
        try? FileManager.default.removeItem(at: staging)
        if createdDestination { try? FileManager.default.removeItem(at: destination) }
        finished = true
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? FileError { return e.problem }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}
