/// Copies NCHW planes into the middle of larger planes with a zero border: what convolutions
/// that read their padding as data instead of checking bounds read (the direct dense kernel on a
/// stem's NCHW image, the sparse direct method on small planes).
public enum ZeroBorder {
    /// `planes` planes of `height` × `width` values from `x` into planes of `paddedHeight` ×
    /// `paddedWidth` in `y`, starting at row `top`, column `left`; every other value of `y`'s
    /// planes is set to zero.
    public static func copy(_ x: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                            into y: UnsafeMutablePointer<Float>, paddedHeight: Int, paddedWidth: Int, top: Int, left: Int,
                            pool: ThreadPool) {
        let (h, w, ph, pw) = (height, width, paddedHeight, paddedWidth)
        pool.parallelFor(planes, grain: 1) { range in
            for plane in range {
                let src = x + plane * h * w, dst = y + plane * ph * pw
                dst.update(repeating: 0, count: top * pw)
                for row in 0..<h {
                    let line = dst + (top + row) * pw
                    line.update(repeating: 0, count: left)
                    (line + left).update(from: src + row * w, count: w)
                    (line + left + w).update(repeating: 0, count: pw - left - w)
                }
                (dst + (top + h) * pw).update(repeating: 0, count: (ph - top - h) * pw)
            }
        }
    }
}
