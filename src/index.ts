// The package's main entry ("."): everything that runs in a browser as well as in Node. Nothing reachable from
// here imports a node: module, awaits at the top level or needs a Node global (checked by the browser bundle
// test and by the layer rules in .dependency-cruiser.cjs). What needs Node is in ./node.ts ("./node").

// The allocator core (wasm) and its reference model.
export { WasmGuest, maxGuestPages, type WasmGuestOptions, type PageViews, type DescriptorLayout } from './core/guest.js';
export { resolveGuest, x86Zones, computeWatermarks, zoneBatchsize, type GuestSpec, type ZoneSpec } from './core/config.js';
export { PROFILES, PROFILE_NAMES, getProfile, type Profile } from './core/profiles.js';
export { SimError, InvariantError, ParseError, type SimErrorCode } from './core/errors.js';
export * from './core/types.js';
export { ReferenceAllocator } from './model/reference.js';

// Time and random streams.
export { VirtualClock, RealClock, type Clock, type TimerHandle } from './clock/clock.js';
export { Mulberry32 } from './clock/rng.js';

// Free page reporting, the host and its devices, free page hinting.
export { PageReporting, type ReportingOptions, type ReportRecord, type PassRecord } from './reporting/worker.js';
export { type ReportBatch, type ReportingDevice, EBUSY, EIO, ENOSPC } from './reporting/device.js';
export { TRANSITIONS, transition, type ReportingState } from './reporting/state.js';
export { type ReportingMetrics } from './reporting/metrics.js';
export { QemuHost, type QemuHostOptions } from './host/qemu.js';
export { VirtioBalloonDevice, NullDevice, FailingDevice, SlowDevice } from './host/devices.js';
export { FreePageHinting, type HintingOptions, type HintingMetrics } from './hinting/hinting.js';

// The engine: guests, policies and workloads on one clock.
export {
  Simulation, simulate, type SimulationOptions, type RunOptions, type SimulateOptions,
} from './sim/engine.js';
export type {
  SimulationSpec, SimulationResult, GuestResult, Sample, GuestMetrics, AllocatorMetrics, HostMetrics, WorkloadMetrics,
  GuestRunSpec, PolicySpec, DeviceSpec,
} from './sim/types.js';
export { GuestRun } from './sim/guest-run.js';
export { checkRunFits, estimateRun, machineLimits, type RunLimits, type RunEstimate } from './sim/estimate.js';
export { staircase, type Staircase } from './sim/staircase.js';
export { createWorkload, type WorkloadSpec, type Workload, type WorkloadContext } from './workloads/index.js';

// Scenario files: the schema, its errors, parsing a document into a SimulationSpec, sweep grids.
export { validateSimulationSpec, SimulationSpecSchema } from './schema/spec-schema.js';
export { ScenarioSchema, type ScenarioFile, type SweepGrid } from './schema/schema.js';
export { ScenarioError, type ScenarioIssue } from './schema/errors.js';
export { parseScenario, parseScenarioJson } from './scenario/parse.js';
export { gridSize, gridPoint, applyParams, type GridPoint } from './scenario/grid.js';

// Real-kernel data from text and bytes, and a guest in a recorded state.
export { parseZoneinfo, zoneSpecsFromZoneinfo, cpusFromZoneinfo, memoryRangesFromDmesg, type Zoneinfo } from './importers/zoneinfo.js';
export { parseBuddyinfo, formatBuddyinfo, type BuddyinfoRow } from './importers/buddyinfo.js';
export { parsePagetypeinfo, formatPagetypeinfo, type Pagetypeinfo } from './importers/pagetypeinfo.js';
export { decodeKpageflags, type KpageflagsBlocks, type FreeBlock } from './importers/kpageflags.js';
export {
  parseFtraceText, parseFtraceLine, parseFtraceStream, type FtraceOptions, type FtraceEvent, type KmemEvent,
} from './importers/ftrace.js';
export {
  parseReportsCsv, parsePassesCsv, parseRssCsv, parseRamCsv, parseBlocksCsv, parseSummaryJson,
  type ReportRow, type PassRow, type RssRow, type RamRow, type RunSummary,
} from './importers/csv.js';
export { buddyinfoText, pagetypeinfoFreeText } from './importers/procfs.js';
export { guestFromProc, startStateFromProc, configFromProc, type StartStateInput } from './importers/start-state.js';
export type { Run, ProcSnapshot, SerialLine } from './importers/run.js';

// Replay of a recorded Run held in memory (./node reads one from a folder).
export { replayTrace } from './replay/trace-replay.js';
export type { ReplayMode, TraceReplayOptions, TraceReplayResult } from './replay/types.js';
export { compareTrace, traceRunComparison } from './replay/compare.js';
export { replayRun, type RunReplayOptions, type WorkloadRunDetails, type SnapshotComparison } from './replay/run-replay.js';
export { describeRun, type RunModel, type RunCycle } from './replay/run-model.js';
export {
  type RunComparison, type Side, type Window, type FidelityRow, windowOf, reportsCsv, withinTolerance,
} from './replay/format.js';
export { formatComparison, formatFidelity } from './replay/text.js';

// Reports of a result.
export { summarize, type GuestSummary } from './report/summary.js';
export { comparisonTable } from './report/table.js';
export { runFleetView } from './report/fleet.js';
export { timeSeriesCsv, summaryCsv } from './report/csv.js';
export { htmlReport, type HtmlReportInput } from './report/html.js';
export { endStateBuddyinfo } from './report/buddyinfo.js';
