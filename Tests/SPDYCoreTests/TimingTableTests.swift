import Foundation
import Testing
@testable import SPDYCore

@Suite struct PublishedTableTests {
    @Test(arguments: [("rn18_unstr.txt", 21), ("rn34_unstr.txt", 37), ("rn50_unstr.txt", 54),
                      ("rn101_unstr.txt", 105), ("2rn50_unstr.txt", 54)])
    func cleanTablesLoadStrictly(name: String, layerCount: Int) throws {
        let table = try Fixtures.table(name, policy: .strict)
        #expect(table.layers.count == layerCount)
        #expect(table.grid == .standard)
        #expect(table.repairs.isEmpty)
        #expect(table.layers.first?.layer == "conv1")
        #expect(table.layers.last?.layer == "fc")
        #expect(table.layers.allSatisfy { $0.levels.allSatisfy { $0 != nil } })
        // overhead = base − declared prunable
        let text = try Fixtures.text(name).split(separator: "\n")
        let base = try #require(Double(text[1]))
        let prunable = try #require(Double(text[3]))
        #expect(table.baseSeconds == base)
        #expect(table.overheadSeconds == base - prunable)
    }

    @Test func rn50FourBlockHasItsOwnGridAnd52EmptyTrailingBlocks() throws {
        #expect {
            try Fixtures.table("rn50_4block.txt", policy: .strict)
        } throws: { error in
            guard let error = error as? TimingTableError else { return false }
            let expectedNames = try! Fixtures.text("rn50_4block.txt").split(separator: "\n")
                .suffix(52).map { LayerID(String($0)) }
            return error.issues.count == 52
                && error.issues.allSatisfy { $0.kind == .emptyLayer && $0.file == "rn50_4block.txt" }
                && error.issues.map(\.line) == Array(2241...2292)
                && error.issues.map(\.layer) == expectedNames
                && expectedNames.first == "layer1.0.conv1.weight"
        }
        let table = try Fixtures.table("rn50_4block.txt", policy: TimingTable.RepairPolicy(emptyLayer: .drop))
        #expect(table.layers.count == 52)
        #expect(table.repairs.count == 52)
        #expect(table.grid == (try SparsityGrid(minimum: 0.4, maximum: 0.935, steps: 40)))
        #expect(table.layers.allSatisfy { $0.levels.allSatisfy { $0 != nil } })
        #expect(!table.layers.contains { $0.layer == "conv1" || $0.layer == "fc" })
        // The standard grid does not fit this table: 0.4324 is not one of its levels.
        #expect {
            try TimingTable.parseReferenceText(Fixtures.text("rn50_4block.txt"), file: "rn50_4block.txt",
                                               grid: .standard, policy: .repairAll)
        } throws: { error in
            let issue = (error as? TimingTableError)?.issues.first
            return issue?.line == 8 && issue?.layer == "layer1.0.conv1"
                && issue?.kind == .levelNotOnGrid(sparsity: 0.4324, grid: .standard)
        }
    }

    @Test func yolov5sDuplicatesTheDenseLevelOfOneLayer() throws {
        #expect {
            try Fixtures.table("yolov5s_unstr.txt", policy: .strict)
        } throws: { error in
            let issues = (error as? TimingTableError)?.issues ?? []
            return issues == [TimingTableIssue(file: "yolov5s_unstr.txt", line: 1211, layer: "model.8.m.0.cv1.conv",
                                               kind: .duplicatedLevel(.dense, sparsity: 0, firstLine: 1210))]
        }
        let table = try Fixtures.table("yolov5s_unstr.txt", policy: .repairAll)
        #expect(table.layers.count == 60)
        #expect(table.repairs.count == 1)
        #expect(table.repairs.first?.line == 1211)
        let layer = try #require(table.index(of: "model.8.m.0.cv1.conv"))
        #expect(table.layers[layer].denseSeconds == 0.001889)
        // Keeping the median contradicts the declared prunable sum, which used the first value.
        #expect {
            try Fixtures.table("yolov5s_unstr.txt", policy: TimingTable.RepairPolicy(duplicatedLevel: .keepMedian))
        } throws: { error in
            guard case .prunableSumMismatch = (error as? TimingTableError)?.issues.first?.kind else { return false }
            return true
        }
    }

    @Test func yolov5mDuplicatesDenseAndLosesTheLastLevelOfOneLayer() throws {
        let layer: LayerID = "model.8.m.0.cv2.conv"
        #expect {
            try Fixtures.table("yolov5m_unstr.txt", policy: .strict)
        } throws: { error in
            let issues = (error as? TimingTableError)?.issues ?? []
            return issues == [
                TimingTableIssue(file: "yolov5m_unstr.txt", line: 1768, layer: layer,
                                 kind: .missingLevels([SparsityLevel(41)], sparsities: [SparsityGrid.standard[SparsityLevel(41)]])),
                TimingTableIssue(file: "yolov5m_unstr.txt", line: 1770, layer: layer,
                                 kind: .duplicatedLevel(.dense, sparsity: 0, firstLine: 1769)),
            ]
        }
        let table = try Fixtures.table("yolov5m_unstr.txt", policy: .repairAll)
        #expect(table.layers.count == 82)
        #expect(table.repairs.count == 2)
        let index = try #require(table.index(of: layer))
        #expect(table.layers[index].denseSeconds == 0.013663)
        #expect(!table.layers[index].isAvailable(SparsityLevel(41)))
        #expect(table.layers[index].isAvailable(SparsityLevel(40)))
        // Only the duplicate is allowed: the missing level still refuses the table.
        #expect(throws: TimingTableError.self) {
            try Fixtures.table("yolov5m_unstr.txt", policy: TimingTable.RepairPolicy(duplicatedLevel: .keepFirst))
        }
    }

    @Test func messagesNameFileLineAndLayer() throws {
        do {
            _ = try Fixtures.table("yolov5m_unstr.txt", policy: .strict)
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("yolov5m_unstr.txt:1770: layer model.8.m.0.cv2.conv: level 0.0000 (#0) listed twice (first at line 1769)"))
            #expect(text.contains("yolov5m_unstr.txt:1768: layer model.8.m.0.cv2.conv: missing level 0.9900 (#41)"))
        }
    }

    @Test(arguments: Fixtures.tableNames)
    func everyTableRoundTripsThroughJSON(name: String) throws {
        let table = try Fixtures.table(name)
        let data = table.encodeJSON()
        #expect(TimingTable.detectFormat(of: data) == .json)
        let decoded = try TimingTable.load(from: data, file: "copy.json")
        #expect(decoded == table)
    }
}

@Suite struct ReferenceTextValidationTests {
    /// A clean two-layer table on a 4-level grid (0, 0.5, 0.7, 0.9 approx.).
    static let grid = try! SparsityGrid(minimum: 0.5, maximum: 0.9, steps: 2)
    static func level(_ i: Int) -> String { format4(grid[SparsityLevel(i)]) }
    static let clean = """
        base
        1.0
        prunable
        0.5
        a
        0.3 0.0000
        0.2 \(level(1))
        0.1 \(level(2))
        0.05 \(level(3))
        b
        0.2 0.0000
        0.1 \(level(1))
        0.1 \(level(2))
        0.1 \(level(3))

        """

    func issues(_ text: String, policy: TimingTable.RepairPolicy = .strict) -> [TimingTableIssue] {
        do {
            _ = try TimingTable.parseReferenceText(text, file: "t.txt", grid: Self.grid, policy: policy)
            return []
        } catch { return error.issues }
    }

    func replacing(_ old: String, with new: String) -> String {
        Self.clean.replacingOccurrences(of: old, with: new)
    }

    @Test func cleanTableLoadsAndInfersItsGrid() throws {
        let table = try TimingTable.parseReferenceText(Self.clean, file: "t.txt")
        #expect(table.grid == Self.grid)
        #expect(table.layers.map(\.layer) == ["a", "b"])
        #expect(table.overheadSeconds == 0.5)
        #expect(table.predictedSpeedup(levels: [SparsityLevel(3), SparsityLevel(1)]) == 1.0 / 0.65)
    }

    @Test func reportsEachDefectWithLineAndLayer() {
        #expect(issues(replacing("0.2 \(Self.level(1))\n0.1 \(Self.level(2))\n0.05", with: "0.2 \(Self.level(1))\nx 0.7000\n0.05"))
            .contains { $0.line == 8 && $0.layer == "a" && $0.kind == .malformedNumber("x") })
        #expect(issues(replacing("0.05 \(Self.level(3))", with: "nan \(Self.level(3))"))
            .first { $0.line == 9 }?.kind == .malformedNumber("nan"))
        #expect(issues(replacing("0.05 \(Self.level(3))", with: "0.05 0.8000"))
            == [TimingTableIssue(file: "t.txt", line: 5, layer: "a",
                                 kind: .missingLevels([SparsityLevel(3)], sparsities: [Self.grid[SparsityLevel(3)]])),
                TimingTableIssue(file: "t.txt", line: 9, layer: "a", kind: .levelNotOnGrid(sparsity: 0.8, grid: Self.grid))])
        #expect(issues(replacing("0.05 \(Self.level(3))", with: "-0.05 \(Self.level(3))"))
            .contains { $0.line == 9 && $0.kind == .nonPositiveTime(-0.05) })
        #expect(issues(replacing("0.2 0.0000", with: "0.2 0.0000 extra"))
            .contains { $0.line == 11 && $0.layer == "b" && $0.kind == .unexpectedLine("0.2 0.0000 extra") })
        #expect(issues(replacing("\nb\n", with: "\na\n"))
            .contains { $0.line == 10 && $0.kind == .duplicatedLayer(firstLine: 5) })
        #expect(issues(replacing("0.3 0.0000", with: "0.3 \(Self.level(1))"))
            .contains { $0.kind == .missingDense && $0.layer == "a" })
        #expect(issues(replacing("prunable\n0.5", with: "prunable\n0.7"))
            .contains { if case .prunableSumMismatch(0.7, _, _) = $0.kind { return true } else { return false } })
        #expect(issues(replacing("base\n", with: "bass\n"))
            == [TimingTableIssue(file: "t.txt", line: 1, kind: .missingHeader(expected: "base", found: "bass"))])
        #expect(issues(replacing("1.0\nprunable", with: "1.0x\nprunable"))
            == [TimingTableIssue(file: "t.txt", line: 2, kind: .malformedNumber("1.0x"))])
        #expect(issues("base\n1\n") == [TimingTableIssue(file: "t.txt", line: 2,
                                                         kind: .missingHeader(expected: "prunable", found: nil))])
        #expect(issues("base\n1\nprunable\n0.5\n0.1 0.0000\n").contains { $0.line == 5 && $0.kind == .levelOutsideLayer })
        #expect(issues("base\n1\nprunable\n0\n") == [TimingTableIssue(file: "t.txt", kind: .noLayers)])
        #expect(issues(replacing("prunable\n0.5", with: "prunable\n1.5").replacingOccurrences(of: "0.3 0.0000", with: "1.3 0.0000"))
            .contains { $0.kind == .invalidOverhead(-0.5) })
    }

    @Test func tolerantReaderNeverTrapsOnGarbage() {
        var generator = SplitMix64(seed: 7)
        let alphabet = Array("base\nprunable\n0123456789. -eEnaif\t\r")
        for _ in 0..<500 {
            var text = Self.clean
            for _ in 0..<(1 + generator.nextIndex(below: 4)) {
                let position = generator.nextIndex(below: text.count)
                let index = text.index(text.startIndex, offsetBy: position)
                text.replaceSubrange(index...index, with: String(alphabet[generator.nextIndex(below: alphabet.count)]))
            }
            _ = try? TimingTable.parseReferenceText(text, file: "fuzz.txt", policy: .repairAll)
        }
    }

    @Test func jsonProblemsAreTyped() throws {
        let table = try TimingTable.parseReferenceText(Self.clean, file: "t.txt")
        var object = try #require(try JSONSerialization.jsonObject(with: table.encodeJSON()) as? [String: Any])
        object["formatVersion"] = 99
        let future = try JSONSerialization.data(withJSONObject: object)
        #expect {
            try TimingTable.load(from: future, file: "t.json")
        } throws: { ($0 as? TimingTableError)?.issues == [TimingTableIssue(file: "t.json", kind: .unsupportedFormatVersion(99))] }
        object["formatVersion"] = 1
        object["baseSeconds"] = nil
        #expect {
            try TimingTable.load(from: JSONSerialization.data(withJSONObject: object), file: "t.json")
        } throws: { error in
            guard case let .invalidJSON(message)? = (error as? TimingTableError)?.issues.first?.kind else { return false }
            return message.contains("baseSeconds")
        }
        object["baseSeconds"] = 1.0
        object["overheadSeconds"] = -1.0
        #expect {
            try TimingTable.load(from: JSONSerialization.data(withJSONObject: object), file: "t.json")
        } throws: { ($0 as? TimingTableError)?.issues == [TimingTableIssue(file: "t.json", kind: .invalidOverhead(-1))] }
    }
}
