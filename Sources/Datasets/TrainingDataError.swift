import Diagnostics

/// A problem with training data that a user can cause and fix: an image that cannot be
/// decoded, an image entry without a file name, a class count too small for the category ids.
/// Problems inside the annotation JSON itself are `COCOError`s (they name the file and entry).
///
/// `description` is one line that names the file, e.g.
/// `data/train/000017.png: cannot decode image 17 (not a PNG or JPEG file)`.
public typealias TrainingDataError = KindedError<TrainingDataErrorKind>

/// What went wrong in a `TrainingDataError` (e.g. the loader's skip policy branches on it).
public enum TrainingDataErrorKind: String, Sendable, Equatable {
    /// An image file is missing, unreadable or corrupt.
    case unreadableImage
    /// An `images` entry has no `file_name`.
    case missingFileName
    /// `num_classes` does not exceed the largest category id (or a category id is negative).
    case invalidClassCount
    /// The dataset has no usable image (after skipping those without annotations).
    case empty
    /// A loader or sampler argument is out of range (batch size, workers, ...).
    case invalidArgument
}
