import Foundation
import SPDYCore

/// The published DeepSparse tables, copied into the repository (CI has no /work/shared).
enum Fixtures {
    /// `Tests/Fixtures/deepsparse-timings`, located from this source file.
    static let timingsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/deepsparse-timings")

    /// Every table file name.
    static let tableNames = [
        "rn18_unstr.txt", "rn34_unstr.txt", "rn50_unstr.txt", "rn101_unstr.txt", "2rn50_unstr.txt",
        "rn50_4block.txt", "yolov5s_unstr.txt", "yolov5m_unstr.txt",
    ]

    /// The tables that load under the strict policy.
    static let cleanTableNames = ["rn18_unstr.txt", "rn34_unstr.txt", "rn50_unstr.txt", "rn101_unstr.txt",
                                  "2rn50_unstr.txt"]

    /// The bytes of a fixture file.
    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: timingsDirectory.appendingPathComponent(name))
    }

    /// The text of a fixture file.
    static func text(_ name: String) throws -> String {
        try String(decoding: data(name), as: UTF8.self)
    }

    /// Loads a fixture table with `policy`.
    static func table(_ name: String, policy: TimingTable.RepairPolicy = .repairAll) throws -> TimingTable {
        try TimingTable.load(from: data(name), file: name, policy: policy)
    }

    /// The layers a real run would exclude: ResNets' `conv1` and `fc`, YOLO's stem and detect heads.
    static func excludedLayers(of table: TimingTable) -> Set<LayerID> {
        let names = Set(table.layers.map(\.layer.name))
        let candidates = ["conv1", "fc", "model.0.conv", "model.24.m.0", "model.24.m.1", "model.24.m.2"]
        return Set(candidates.filter { names.contains($0) }.map { LayerID($0) })
    }
}
