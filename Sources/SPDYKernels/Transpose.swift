/// Out-of-place transposes of row-major blocks.
public enum Transpose {
    /// dst[c][r] = src[r][c] for r < rows, c < columns (leading dimensions `ld`), in 8×8 blocks
    /// so both sides are walked a cache line at a time.
    public static func block(_ src: UnsafePointer<Float>, ld: Int, rows: Int, columns: Int,
                             into dst: UnsafeMutablePointer<Float>, ld dstLD: Int) {
        typealias V = SIMD8<Float>
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + 8)
            var c0 = 0
            if r1 - r0 == 8 {
                // Full 8-row strips: eight vector loads per 8×8 block, columns gathered from them.
                while c0 + 8 <= columns {
                    let s = src + r0 * ld + c0
                    let a0 = UnsafeRawPointer(s).loadUnaligned(as: V.self)
                    let a1 = UnsafeRawPointer(s + ld).loadUnaligned(as: V.self)
                    let a2 = UnsafeRawPointer(s + 2 * ld).loadUnaligned(as: V.self)
                    let a3 = UnsafeRawPointer(s + 3 * ld).loadUnaligned(as: V.self)
                    let a4 = UnsafeRawPointer(s + 4 * ld).loadUnaligned(as: V.self)
                    let a5 = UnsafeRawPointer(s + 5 * ld).loadUnaligned(as: V.self)
                    let a6 = UnsafeRawPointer(s + 6 * ld).loadUnaligned(as: V.self)
                    let a7 = UnsafeRawPointer(s + 7 * ld).loadUnaligned(as: V.self)
                    let d = dst + c0 * dstLD + r0
                    for c in 0..<8 {
                        let column = V(a0[c], a1[c], a2[c], a3[c], a4[c], a5[c], a6[c], a7[c])
                        UnsafeMutableRawPointer(d + c * dstLD).storeBytes(of: column, as: V.self)
                    }
                    c0 += 8
                }
            }
            while c0 < columns {
                let c1 = min(columns, c0 + 8)
                for r in r0..<r1 {
                    let s = src + r * ld
                    for c in c0..<c1 { dst[c * dstLD + r] = s[c] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
