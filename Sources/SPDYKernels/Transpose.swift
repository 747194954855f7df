import CKernels

/// Out-of-place transposes of row-major blocks.
public enum Transpose {
    /// dst[c][r] = src[r][c] for r < rows, c < columns (leading dimensions `ld`), in 8×8 register
    /// transposes (`spdy_transpose_block`, C).
    public static func block(_ src: UnsafePointer<Float>, ld: Int, rows: Int, columns: Int,
                             into dst: UnsafeMutablePointer<Float>, ld dstLD: Int) {
        guard rows > 0, columns > 0 else { return }
        spdy_transpose_block(src, Int64(ld), Int64(rows), Int64(columns), dst, Int64(dstLD))
    }
}
