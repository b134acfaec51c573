import Foundation

/// Writing files so that a reader never sees a half-written one.
public enum AtomicFile {
    /// Writes `data` to a temporary file in the same directory, flushes it, then renames it over `url`.
    ///
    /// An existing target that is not a regular file (`/dev/stdout`, a FIFO, a device) is written
    /// in place instead, never replaced; every write is checked (a full device is an error).
    public static func write(_ data: Data, to url: URL) throws {
        var info = stat()
        if stat(url.path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG, (info.st_mode & S_IFMT) != S_IFDIR {
            try writeInPlace(data, to: url.path)
            return
        }
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        )
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw FileError(file: url.path, problem: "could not be written (\(error.localizedDescription))")
        }
    }

    /// Writes all of `data` to the open descriptor `fd`, retrying interrupted and short writes.
    /// - Returns: 0, or the errno of the write that failed (EIO for one that wrote nothing)
    public static func writeAll(_ data: Data, to fd: Int32) -> Int32 {
        data.withUnsafeBytes { raw -> Int32 in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return n < 0 ? errno : EIO }
                offset += n
            }
            return 0
        }
    }

    /// Writes `data` into an existing special file, checking every write and the close.
    static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileError(
                file: path, problem: "could not be opened for writing (\(String(cString: strerror(errno))))")
        }
        var failure = writeAll(data, to: fd)
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure != 0 {
            throw FileError(file: path, problem: "could not be written (\(String(cString: strerror(failure))))")
        }
    }
}
