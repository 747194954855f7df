// swift-tools-version: 6.1
import PackageDescription

/// Kernels and the engine need FMA/AVX2 code generation; without it Swift emits SSE2 and calls
/// `fmaf` per lane. The seam is here so arm64/macOS can pass their own flags later.
let simdFlags: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-target-cpu", "haswell"]),
]
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"])]

let package = Package(
    name: "swift-spdy",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "spdy", targets: ["spdy"]),
        .library(name: "SPDYCore", targets: ["SPDYCore"]),
        .library(name: "SPDYEngine", targets: ["SPDYEngine"]),
        .library(name: "SPDYONNX", targets: ["SPDYONNX"]),
        .library(name: "SPDYPruning", targets: ["SPDYPruning"]),
        .library(name: "SPDYTraining", targets: ["SPDYTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "SPDYTensor", swiftSettings: simdFlags),
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "SPDYKernels",
                dependencies: ["SPDYTensor", "CBLAS", "CKernels", .product(name: "Numerics", package: "swift-numerics")],
                swiftSettings: simdFlags),
        .target(name: "SPDYGraph", dependencies: ["SPDYTensor"]),
        .target(name: "SPDYONNX",
                dependencies: ["SPDYGraph", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "SPDYEngine", dependencies: ["SPDYGraph", "SPDYKernels"], swiftSettings: simdFlags),
        .target(name: "SPDYCore"),
        .target(name: "SPDYPruning",
                dependencies: ["SPDYCore", "SPDYEngine", "SPDYGraph", "SPDYKernels", "SPDYTensor", "SPDYTraining", "CBLAS"],
                swiftSettings: simdFlags),
        .target(name: "SPDYTraining",
                dependencies: ["SPDYCore", "SPDYGraph", "SPDYKernels", "SPDYTensor", "CBLAS",
                               .product(name: "Numerics", package: "swift-numerics")],
                swiftSettings: simdFlags),
        .target(name: "SPDYTiming", dependencies: ["SPDYCore", "SPDYEngine", "SPDYGraph", "SPDYPruning", "SPDYTensor"]),
        .target(name: "SPDYCLI",
                dependencies: ["CBLAS", "SPDYCore", "SPDYEngine", "SPDYONNX", "SPDYPruning", "SPDYTiming", "SPDYTraining",
                               .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "spdy", dependencies: ["SPDYCLI"]),
        .executableTarget(name: "solver-bench", dependencies: ["SPDYCore"], path: "Benchmarks/SolverBench"),
        .executableTarget(name: "train-bench", dependencies: ["SPDYCLI", "SPDYTraining", "SPDYONNX"], path: "Benchmarks/TrainBench"),
        .executableTarget(name: "kernel-bench", dependencies: ["SPDYKernels"], path: "Benchmarks/KernelBench",
                          swiftSettings: simdFlags),
        .testTarget(name: "SPDYCoreTests", dependencies: ["SPDYCore"]),
        .testTarget(name: "SPDYTensorTests", dependencies: ["SPDYTensor"]),
        .testTarget(name: "SPDYGraphTests", dependencies: ["SPDYGraph"]),
        .testTarget(name: "SPDYONNXTests", dependencies: ["SPDYONNX", "SPDYEngine"]),
        .testTarget(name: "SPDYEngineTests", dependencies: ["SPDYEngine", "SPDYONNX"]),
        .testTarget(name: "SPDYPruningTests", dependencies: ["SPDYPruning", "SPDYTiming", "SPDYONNX", "SPDYEngine"]),
        .testTarget(name: "SPDYTrainingTests", dependencies: ["SPDYTraining", "SPDYONNX", "SPDYGraph", "SPDYTensor", "SPDYCore"]),
        .testTarget(name: "SPDYCLITests", dependencies: ["spdy", "SPDYONNX", "SPDYGraph", "SPDYTensor"]),
    ],
    swiftLanguageModes: [.v6]
)
