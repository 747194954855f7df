import SPDYKernels
/// A heap copy of `values` owned by a plan step (at least one element, so the pointer is valid
/// for empty arrays); the step deallocates it in `deinit`.
func heapCopy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
    let p = AlignedFloats.allocate(max(values.count, 1))
    p.initialize(from: values, count: values.count)
    return p
}
