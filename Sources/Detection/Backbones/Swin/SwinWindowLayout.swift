import Foundation
import NN
import Torch

/// How the attention of one Swin block sees an H×W map, as one token permutation: the map is
/// zero-padded bottom/right to whole windows, rolled cyclically by (-shift.height, -shift.width)
/// and cut into windows. Tokens in "window order" run over the windows row-major and over the
/// positions of each window row-major, so [B, nW·N, C] views as [B·nW, N, C].
///
/// Padded positions are ordinary tokens (zero vectors after the block's first norm); only the
/// shift mask separates tokens that the roll brought together from different map regions.
struct SwinWindowLayout {
    /// Map size before padding.
    let height: Int, width: Int
    /// Map size after padding to multiples of the window.
    let paddedHeight: Int, paddedWidth: Int
    /// Cyclic shift per axis: half a window for a shifted block, 0 on an axis whose padded size
    /// the window covers.
    let shift: (height: Int, width: Int)
    /// Windows per image, nW = (paddedHeight / window.height) · (paddedWidth / window.width).
    let windowCount: Int
    /// int64 [paddedHeight · paddedWidth]: for each token in window order, its row-major position
    /// in the padded map before the roll.
    let gather: Tensor
    /// int64 [height · width]: for each row-major position of the unpadded map, its token in
    /// window order (the inverse of `gather` on the unpadded positions: undoes the partition and
    /// the roll and drops the padding).
    let scatter: Tensor
    /// [nW, 1, N, N] in the attention's dtype, N = window.height · window.width: -100 between two
    /// tokens of a window that lie in different regions of the rolled map, 0 otherwise; nil when
    /// neither axis is shifted.
    let shiftMask: Tensor?

    var isPadded: Bool { paddedHeight != height || paddedWidth != width }

    /// The layout of an H×W map for windows of `window` size; `shifted` for blocks with an odd
    /// index within their stage.
    init(
        height: Int, width: Int, window: (height: Int, width: Int), shifted: Bool, dtype: DType,
        device: Device
    ) {
        self.height = height
        self.width = width
        let hp = height.roundedUp(toMultipleOf: window.height), wp = width.roundedUp(toMultipleOf: window.width)
        // A window that covers the whole padded axis sees the same tokens with or without a roll.
        let shift = (
            height: shifted && window.height < hp ? window.height / 2 : 0,
            width: shifted && window.width < wp ? window.width / 2 : 0
        )
        (paddedHeight, paddedWidth, self.shift) = (hp, wp, shift)
        windowCount = (hp / window.height) * (wp / window.width)
        let (g, s, m) = withNoGrad { () -> (Tensor, Tensor, Tensor?) in
            // Rolled row i holds padded row (i + shift) mod Hp, likewise for columns.
            let rows = (Tensor.arange(hp) + shift.height).remainder(hp)
            let cols = (Tensor.arange(wp) + shift.width).remainder(wp)
            let source = rows.unsqueeze(1) * wp + cols.unsqueeze(0)
            let gather = Self.windowOrder(source, window: window).reshape([-1])
            // `gather` is a permutation: its argsort is the inverse permutation.
            let inverse = gather.argsort()
            let scatter = inverse.view(hp, wp).slice(dim: 0, end: height).slice(dim: 1, end: width).reshape([-1])
            var mask: Tensor?
            if shift.height > 0 || shift.width > 0 {
                let rowRegion = Tensor(Self.regions(hp, window: window.height, shift: shift.height))
                let colRegion = Tensor(Self.regions(wp, window: window.width, shift: shift.width))
                let region = rowRegion.unsqueeze(1) * 3 + colRegion.unsqueeze(0)
                let perWindow = Self.windowOrder(region, window: window)  // [nW, N]
                let differs = perWindow.unsqueeze(2) .!= perWindow.unsqueeze(1)  // [nW, N, N]
                mask = Tensor.zeros(differs.shape, dtype: dtype).maskedFill(differs, -100.0).unsqueeze(1)
            }
            return (gather, scatter, mask)
        }
        if device == .cpu {
            (gather, scatter, shiftMask) = (g, s, m)
        } else {
            // The input already lives on `device`, so the device is available.
            gather = g.to(device)
            scatter = s.to(device)
            shiftMask = m?.to(device)
        }
    }

    /// A [Hp, Wp] map as [nW, N]: windows row-major, positions inside each window row-major.
    static func windowOrder(_ map: Tensor, window: (height: Int, width: Int)) -> Tensor {
        let (hp, wp) = (map.size(0), map.size(1))
        return map.view(hp / window.height, window.height, wp / window.width, window.width)
            .permute(0, 2, 1, 3)
            .reshape(-1, window.height * window.width)
    }

    /// Region labels along one rolled axis of padded size `n`: 0 on [0, n − window), 1 on
    /// [n − window, n − shift), 2 on [n − shift, n); a single region 0 when `shift` is 0.
    static func regions(_ n: Int, window: Int, shift: Int) -> [Int] {
        guard shift > 0 else { return Array(repeating: 0, count: n) }
        return (0..<n).map { $0 < n - window ? 0 : $0 < n - shift ? 1 : 2 }
    }
}

/// The window layouts a Swin backbone has used, by map size, block parity, dtype and device. They
/// depend on no weights, so all blocks share them. Holds the most recent `capacity` layouts (a
/// multi-scale training run sees many sizes; one forward pass needs at most 8). Safe to use from
/// several threads.
final class SwinWindowLayoutCache: @unchecked Sendable {
    private struct Key: Hashable {
        let height: Int, width: Int, shifted: Bool, dtype: DType, device: Device
    }

    let window: (height: Int, width: Int)
    let capacity: Int
    private let lock = NSLock()
    private var layouts: [Key: SwinWindowLayout] = [:]
    private var insertionOrder: [Key] = []

    init(window: (height: Int, width: Int), capacity: Int = 32) {
        precondition(capacity >= 1, "SwinWindowLayoutCache: capacity must be positive")
        self.window = window
        self.capacity = capacity
    }

    /// The layout of an H×W map (built on first use). While an `OperationTrace` records, built
    /// anew and not kept: the recording holds how it is made, not tensors from before it.
    func layout(height: Int, width: Int, shifted: Bool, dtype: DType, device: Device) -> SwinWindowLayout {
        if OperationTrace.isRecording {
            return SwinWindowLayout(
                height: height, width: width, window: window, shifted: shifted, dtype: dtype, device: device)
        }
        let key = Key(height: height, width: width, shifted: shifted, dtype: dtype, device: device)
        lock.lock()
        defer { lock.unlock() }
        if let layout = layouts[key] { return layout }
        let layout = SwinWindowLayout(
            height: height, width: width, window: window, shifted: shifted, dtype: dtype, device: device)
        if insertionOrder.count == capacity {
            layouts[insertionOrder.removeFirst()] = nil
        }
        layouts[key] = layout
        insertionOrder.append(key)
        return layout
    }
}
