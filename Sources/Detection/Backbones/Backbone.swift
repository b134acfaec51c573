import NN
import Torch

/// An image backbone of Salience DETR: a batch of images in, the feature maps of selected stages
/// out. Conformers register exactly the official state-dict keys under their path.
public protocol Backbone: Module {
    /// Output channels of stages 0...3.
    var stageChannels: [Int] { get }
    /// Stage outputs for `indices` (increasing stage indices in 0...3).
    /// - Parameters:
    ///   - x: [B, 3, H, W] normalised, zero-padded (padding is processed like image content, as
    ///     the official backbones do)
    ///   - training: stochastic depth and dropout (where the backbone has them)
    ///   - generator: their randomness (libtorch's global generator when nil)
    ///   - checkpoint: activation checkpointing of every block (`Module.checkpointed`): only
    ///     the blocks' inputs are kept for the backward pass
    /// - Returns: one [B, C_i, H/s_i, W/s_i] per index (values of the NCHW computation; the
    ///   memory layout may be channels-last)
    func callAsFunction(
        _ x: Tensor, returning indices: [Int], training: Bool, generator: Generator?, checkpoint: Bool
    ) -> [Tensor]
    /// Whether the official code freezes the parameter `key` (relative to the backbone) for
    /// `freeze_indices`: a non-empty list freezes the stem and the listed stages. A rule on key
    /// names alone, so a recipe applies it without the model.
    static func isFrozen(_ key: String, freezeIndices: [Int]) -> Bool
    /// The path (relative to the backbone, "" or ending in ".") of the module that the family's
    /// published ImageNet classification weights fit under their own key names: the module the
    /// official code loads them into, before it wraps it for detection.
    static var publishedRoot: String { get }
}

extension Backbone {
    /// Stage outputs without activation checkpointing.
    public func callAsFunction(_ x: Tensor, returning indices: [Int], training: Bool, generator: Generator?)
        -> [Tensor]
    {
        self(x, returning: indices, training: training, generator: generator, checkpoint: false)
    }

    /// `Self.isFrozen(_:freezeIndices:)`.
    public func isFrozen(_ key: String, freezeIndices: [Int]) -> Bool {
        Self.isFrozen(key, freezeIndices: freezeIndices)
    }

    /// Stops gradients of what the official code freezes for `freezeIndices`.
    public func freezeStages(_ freezeIndices: [Int]) {
        freeze { isFrozen($0, freezeIndices: freezeIndices) }
    }
}

extension BackboneConfig {
    /// Whether the official code freezes the backbone parameter `key` (relative to the backbone)
    /// for this config's `freezeIndices`.
    func freezes(_ key: String) -> Bool {
        family.isFrozen(key, freezeIndices: freezeIndices)
    }

    /// `Backbone.publishedRoot` of this config's family.
    public var publishedRoot: String { family.publishedRoot }

    private var family: any Backbone.Type {
        switch type {
        case .resnet: ResNet.self
        case .swin: SwinTransformer.self
        case .convnext: ConvNeXt.self
        case .focalnet: FocalNet.self
        }
    }
}

/// The backbone of `config.type` under `p`, building stages 0...`lastStage`.
func makeBackbone(_ p: ModulePath, config: BackboneConfig, lastStage: Int) -> any Backbone {
    switch config.type {
    case .resnet: ResNet(p, block: config.block, layers: config.layers, stages: lastStage + 1)
    case .swin: SwinTransformer(p, config: config.swin, lastStage: lastStage)
    case .convnext: ConvNeXt(p, config: config.convnext, lastStage: lastStage)
    case .focalnet:
        FocalNet(p, config: config.focalnet, returnIndices: config.returnIndices, lastStage: lastStage)
    }
}
