import Diagnostics
import Foundation

/// Expanding command-line image arguments.
enum ImageInputs {
    static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// Files as given; directories become their image files, sorted by name.
    static func expand(_ inputs: [String]) throws -> [String] {
        var out: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isDir), isDir.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: input)
                    .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
                if names.isEmpty {
                    throw FileError(file: input, problem: "directory contains no .jpg/.jpeg/.png images")
                }
                out += names.map { (input as NSString).appendingPathComponent($0) }
            } else {
                out.append(input)  // missing files are reported per image, and the others still run
            }
        }
        return out
    }
}
