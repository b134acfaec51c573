@_exported import Diagnostics

/// A weight file that cannot be read (or written): a `FileError` naming the file.
public typealias WeightFileError = FileError
