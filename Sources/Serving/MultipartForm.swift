import Foundation

/// The one part of a `multipart/form-data` body that the service reads: a named file field.
enum MultipartForm {
    /// The boundary of a `multipart/form-data; boundary=...` content type, or nil for another type.
    static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let type = parts.first, type.lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() where p.lowercased().hasPrefix("boundary=") {
            var value = p.dropFirst("boundary=".count)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// A field of the form: its bytes and the file name its part gives.
    struct Field {
        var data: Data
        var filename: String?
    }

    /// The field called `name`, or nil when the body has none.
    /// - Throws: `RequestError` (400) when the body is not well-formed multipart or has the field twice
    static func field(named name: String, in body: Data, boundary: String) throws -> Field? {
        let delimiter = Data("--\(boundary)".utf8)
        let headerEnd = Data("\r\n\r\n".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else {
            throw RequestError(.badRequest, "multipart body without its boundary")
        }
        let nextDelimiter = Data("\r\n--\(boundary)".utf8)
        var found: Field?
        while true {
            // After a delimiter: "--" ends the body, otherwise CRLF and the part's headers.
            if body[cursor...].starts(with: Data("--".utf8)) { return found }
            guard let headersEnd = body.range(of: headerEnd, in: cursor..<body.endIndex) else {
                throw RequestError(.badRequest, "multipart part without the end of its headers")
            }
            let headers = String(decoding: body[cursor..<headersEnd.lowerBound], as: UTF8.self)
            guard let end = body.range(of: nextDelimiter, in: headersEnd.upperBound..<body.endIndex) else {
                throw RequestError(.badRequest, "multipart part without a closing boundary (truncated body?)")
            }
            let disposition = headers.split(separator: "\r\n").first {
                $0.lowercased().hasPrefix("content-disposition:")
            }
            if let disposition, parameter("name", in: String(disposition)) == name {
                guard found == nil else {
                    throw RequestError(.badRequest, "the multipart form has more than one field named \(name)")
                }
                found = Field(
                    data: Data(body[headersEnd.upperBound..<end.lowerBound]),
                    filename: parameter("filename", in: String(disposition)))
            }
            cursor = end.upperBound
        }
    }

    /// A `key="value"` (or `key=value`) parameter of a header line.
    static func parameter(_ key: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let kv = item.trimmingCharacters(in: .whitespaces)
            guard kv.lowercased().hasPrefix(key + "=") else { continue }
            var value = Substring(kv.dropFirst(key.count + 1))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }
}
