import ArgumentParser
import Torch

/// `--device cpu|cuda|cuda:N`, checked while the arguments are parsed: a bad value is a usage
/// error that lists the valid ones.
extension Device: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }

    public var defaultValueDescription: String { description }

    public static var allValueStrings: [String] { ["cpu", "cuda", "cuda:N"] }
}

/// `--precision fp32|bf16|fp16`: float32, or mixed precision with libtorch's autocast.
extension Precision: ExpressibleByArgument {}
