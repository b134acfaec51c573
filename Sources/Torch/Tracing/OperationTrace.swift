import CTorch
import Foundation

/// A recording of the operators a computation runs (one forward of a model), for export.
///
/// While `record(_:)` runs its body, every operator of the Torch layer executes as usual and
/// also appends a node to the trace: the operator with its non-tensor arguments, its operands
/// and its results with their shapes and dtypes. Values are identified by the `Tensor` objects
/// that hold them. Graph inputs and named weights are declared before the body runs
/// (`addInput`, `addInitializer`).
///
/// The recording is sound or it says why not (`problems`):
/// - a value computed from a graph input that is read on the host (`floats`, `item()`...):
///   whatever the code did with it (a loop bound, a branch) would be frozen into the graph;
/// - a tensor that was made before the recording started and was not declared;
/// - a result of an operator that records nothing (every operator of the layer records);
/// - an in-place change of a tensor that shares storage with another (a view or its base).
///
/// A recording records the operators of the thread that runs it; threads record independently.
public final class OperationTrace: @unchecked Sendable {
    /// Where a value comes from.
    public enum Origin: Sendable, Equatable {
        case input(String)
        case initializer(String)
        /// Output `output` of node `node`.
        case node(Int, output: Int)
    }

    public struct Value: Sendable {
        public var shape: [Int]
        public var dtype: DType
        public var origin: Origin
        /// Whether a graph input flows into this value.
        public var dependsOnInput: Bool
        /// Whether the value shares storage with another value (a view, or the base of one).
        var aliased: Bool
    }

    public struct Node: @unchecked Sendable {
        public var op: TracedOp
        /// Value ids of the operands (nil: an optional operand not given).
        public var inputs: [Int?]
        public var outputs: [Int]
        /// The values of a `.constant` node.
        public var constant: Tensor?
        /// The outermost stage label running when the node was recorded (`labeled(_:_:)`).
        public var stage: String?
    }

    /// What a recording is for.
    public enum Purpose: Sendable {
        /// A graph to export: code with a static-shape form for graphs takes it (`isRecordingGraph`).
        case graph
        /// Counting what the forward runs (`multiplyAdds()`): the code runs as it does outside a
        /// recording, and host reads are reported but change nothing.
        case analysis
    }

    public let purpose: Purpose
    /// The stage label nodes get now.
    private var stage: String?

    /// Values by id (ids start at 0).
    public private(set) var values: [Value] = []
    public private(set) var nodes: [Node] = []
    /// Declared graph inputs, in order.
    public private(set) var inputs: [(name: String, value: Int)] = []
    /// Declared weights, in order, with their tensors.
    public private(set) var initializers: [(name: String, value: Int, tensor: Tensor)] = []
    /// What makes the recording unusable, in order of occurrence (at most 20 kept).
    public private(set) var problems: [String] = []

    /// How many recordings run (on any thread): operators look no further while there are none.
    nonisolated(unsafe) private static var running = 0
    private static let lock = NSLock()
    /// Each thread's recording.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "OperationTrace: no thread-local key")
        return key
    }()

    /// The trace recording this thread's operators.
    @inline(__always) static var active: OperationTrace? {
        guard running > 0, let p = pthread_getspecific(threadKey) else { return nil }
        return Unmanaged<OperationTrace>.fromOpaque(p).takeUnretainedValue()
    }
    /// Numbers the traces (a tensor's value id is valid in the trace of its number).
    nonisolated(unsafe) private static var count: Int32 = 0

    let generation: Int32

    public init(purpose: Purpose = .graph) {
        self.purpose = purpose
        Self.lock.lock()
        Self.count += 1
        generation = Self.count
        Self.lock.unlock()
    }

    /// Whether a recording of this thread's operators is running (for either purpose).
    public static var isRecording: Bool { active != nil }

    /// Whether a recording for a graph (`Purpose.graph`) is running: code whose shapes or tie
    /// order depend on values takes its graph form.
    public static var isRecordingGraph: Bool { active?.purpose == .graph }

    /// Runs `body` with the nodes it records labelled `stage`, unless an outer label is set
    /// (labels name the outermost stage). Outside a recording it only runs `body`.
    public static func labeled<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        guard let trace = active, trace.stage == nil else { return try body() }
        trace.stage = stage
        defer { trace.stage = nil }
        return try body()
    }

    /// Runs `body` with operators recorded into this trace.
    /// Recordings on different threads are independent; one thread runs one at a time.
    public func record<T>(_ body: () throws -> T) rethrows -> T {
        precondition(Self.active == nil, "OperationTrace: this thread is already recording")
        pthread_setspecific(Self.threadKey, Unmanaged.passUnretained(self).toOpaque())
        Self.lock.lock()
        Self.running += 1
        Self.lock.unlock()
        defer {
            pthread_setspecific(Self.threadKey, nil)
            Self.lock.lock()
            Self.running -= 1
            Self.lock.unlock()
        }
        return try body()
    }

    /// Declares `tensor` as the graph input `name`.
    public func addInput(_ tensor: Tensor, name: String) {
        let id = newValue(tensor, origin: .input(name), dependsOnInput: true)
        inputs.append((name, id))
    }

    /// Declares `tensor` as the weight `name` (a state-dict key). A tensor declared twice keeps
    /// its first name.
    public func addInitializer(_ tensor: Tensor, name: String) {
        guard tensor.traceID(in: self) < 0 else { return }
        let id = newValue(tensor, origin: .initializer(name), dependsOnInput: false)
        initializers.append((name, id, tensor))
    }

    /// The value id of `tensor`, if it is a value of this trace.
    public func value(of tensor: Tensor) -> Int? { tensor.traceID(in: self) >= 0 ? tensor.traceID(in: self) : nil }

    /// The node that produced value `id`, if any.
    public func producer(of id: Int) -> Int? {
        if case .node(let n, _) = values[id].origin { return n }
        return nil
    }

    // MARK: recording (called by the operators)

    private func newValue(_ t: Tensor, origin: Origin, dependsOnInput: Bool, aliased: Bool = false) -> Int {
        let id = values.count
        values.append(Value(shape: t.shape, dtype: t.dtype, origin: origin, dependsOnInput: dependsOnInput, aliased: aliased))
        t.setTraceID(id, in: self)
        return id
    }

    func problem(_ message: String) {
        if problems.count < 20 { problems.append(message) }
    }

    private func operand(_ t: Tensor, of op: TracedOp) -> Int? {
        switch t.traceID(in: self) {
        case 0...: return t.traceID(in: self)
        case Tensor.poisoned:
            problem("an operand of \(op.name) (\(t.shape) \(t.dtype)) came from an operator that records nothing")
        default:
            problem(
                "an operand of \(op.name) (\(t.shape) \(t.dtype)) was made before the recording started and is not a declared input or weight"
            )
        }
        return nil
    }

    /// Appends a node; gives each output tensor a new value. `view`: the outputs share storage
    /// with the first operand.
    func append(_ op: TracedOp, inputs: [Tensor?], outputs: [Tensor], view: Bool = false, constant: Tensor? = nil) {
        let ids = inputs.map { $0.flatMap { operand($0, of: op) } }
        let depends = ids.contains { $0.map { values[$0].dependsOnInput } ?? false }
        if view, let first = ids.first, let base = first { values[base].aliased = true }
        let n = nodes.count
        let outs = outputs.enumerated().map { i, t in
            newValue(t, origin: .node(n, output: i), dependsOnInput: depends, aliased: view)
        }
        nodes.append(Node(op: op, inputs: ids, outputs: outs, constant: constant, stage: stage))
    }

    /// An in-place operator: `target` now holds a new value computed from `inputs` (its old value
    /// first); `results` (the tensors the operator returned for `target`) name the same value.
    func appendInPlace(_ op: TracedOp, target: Tensor, inputs: [Tensor?], results: [Tensor]) {
        if target.traceID(in: self) >= 0 && values[target.traceID(in: self)].aliased {
            problem("\(op.name) changed a tensor in place that shares storage with another (a view or its base)")
        }
        append(op, inputs: inputs, outputs: [target])
        for r in results where r !== target { r.setTraceID(target.traceID(in: self), in: self) }
    }

    /// A host read of `tensor`'s elements.
    func read(_ tensor: Tensor) {
        guard tensor.traceID(in: self) >= 0, values[tensor.traceID(in: self)].dependsOnInput else { return }
        let origin = producer(of: tensor.traceID(in: self)).map { nodes[$0].op.name } ?? "an input"
        problem(
            "a value computed from the inputs (\(tensor.shape) \(tensor.dtype), from \(origin)) was read on the host: what it decides would be fixed in the graph"
        )
    }
}

extension Tensor {
    /// The value id of this tensor in `trace` (-1: none).
    func traceID(in trace: OperationTrace) -> Int {
        traceGeneration == trace.generation ? Int(traceIndex) : -1
    }

    func setTraceID(_ id: Int, in trace: OperationTrace) {
        traceGeneration = trace.generation
        traceIndex = Int32(id)
    }

    /// `traceID` of a tensor returned by an operator while a recording runs, until the operator
    /// records it.
    static let poisoned = -2

    /// Records this result of an operator (a no-op unless a recording runs).
    @inline(__always) @usableFromInline
    func traced(
        _ op: @autoclosure () -> TracedOp, _ inputs: @autoclosure () -> [Tensor?], view: @autoclosure () -> Bool = false
    ) -> Tensor {
        // Arguments are evaluated only while a recording runs.
        if let trace = OperationTrace.active { trace.append(op(), inputs: inputs(), outputs: [self], view: view()) }
        return self
    }

    /// Records this in-place result of an operator on `target`.
    @inline(__always) @usableFromInline
    func tracedInPlace(_ op: @autoclosure () -> TracedOp, on target: Tensor, _ inputs: @autoclosure () -> [Tensor?]) -> Tensor {
        if let trace = OperationTrace.active { trace.appendInPlace(op(), target: target, inputs: inputs(), results: [self]) }
        return self
    }

    /// Records this tensor as a constant of the graph: its values depend on nothing traced.
    @usableFromInline func tracedConstant() -> Tensor {
        if let trace = OperationTrace.active {
            // A copy: later in-place changes of this tensor are recorded as new values.
            trace.append(.constant, inputs: [], outputs: [self], constant: Tensor(owning: ct_clone(handle)))
        }
        return self
    }

    /// Records a host read of the elements.
    @inline(__always) func tracedRead() {
        if let trace = OperationTrace.active { trace.read(self) }
    }
}

/// Records several results of one operator.
@inline(__always) func traceResults(_ op: @autoclosure () -> TracedOp, _ inputs: @autoclosure () -> [Tensor?], outputs: [Tensor], view: Bool = false) {
    if let trace = OperationTrace.active { trace.append(op(), inputs: inputs(), outputs: outputs, view: view) }
}
