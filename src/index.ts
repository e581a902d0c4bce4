// The library's public API, by name.
export { WasmGuest, maxGuestPages, type WasmGuestOptions } from './core/guest.js';
export { resolveGuest, x86Zones, computeWatermarks, zoneBatchsize, type GuestSpec, type ZoneSpec } from './core/config.js';
export { PROFILES, PROFILE_NAMES, getProfile, type Profile } from './core/profiles.js';
export { SimError, InvariantError, ParseError, type SimErrorCode } from './core/errors.js';
export * from './core/types.js';
export { ReferenceAllocator } from './model/reference.js';
export { PageReporting, type ReportingOptions, type ReportRecord, type PassRecord } from './reporting/worker.js';
export { type ReportBatch, type ReportingDevice, EBUSY, EIO, ENOSPC } from './reporting/device.js';
export { TRANSITIONS, transition, type ReportingState } from './reporting/state.js';
export { type ReportingMetrics } from './reporting/metrics.js';
export { QemuHost, type QemuHostOptions } from './host/qemu.js';
export { VirtioBalloonDevice, NullDevice, FailingDevice, SlowDevice } from './host/devices.js';
export { FreePageHinting, type HintingOptions, type HintingMetrics } from './hinting/hinting.js';
export { VirtualClock, RealClock, type Clock } from './clock/clock.js';
export {
  Simulation, simulate, type SimulationSpec, type SimulationResult, type Sample, type SimulateOptions, type SimulationOptions, type RunOptions,
} from './sim/engine.js';
export { checkRunFits, estimateRun, machineLimits, type RunLimits, type RunEstimate } from './sim/estimate.js';
export { validateSimulationSpec } from './schema/spec-schema.js';
export { GuestRun, type GuestRunSpec, type PolicySpec, type DeviceSpec } from './sim/guest-run.js';
export { createWorkload, type WorkloadSpec } from './workloads/index.js';
export { Mulberry32 } from './clock/rng.js';
export { buddyinfoText, pagetypeinfoFreeText } from './importers/procfs.js';
export { parseZoneinfo, zoneSpecsFromZoneinfo } from './importers/zoneinfo.js';
export { parseBuddyinfo, formatBuddyinfo } from './importers/buddyinfo.js';
export { parsePagetypeinfo, formatPagetypeinfo } from './importers/pagetypeinfo.js';
export { decodeKpageflags } from './importers/kpageflags.js';
export { guestFromProc, startStateFromProc, configFromProc, type StartStateInput } from './importers/start-state.js';
export { parseFtraceText, parseFtraceLine, type FtraceOptions } from './importers/ftrace.js';

// Node only (they read files):
export { loadRun } from './importers/run.js';
export { replayTrace } from './replay/trace-replay.js';
export { compareTrace, traceRunComparison } from './replay/compare.js';
export { replayRun, type WorkloadRunDetails, type SnapshotComparison } from './replay/run-replay.js';
export { describeRun, type RunModel, type RunCycle } from './replay/run-model.js';
export { type RunComparison, type Side, type Window, windowOf, reportsCsv, withinTolerance } from './replay/format.js';
