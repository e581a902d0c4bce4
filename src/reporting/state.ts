// The page reporting state machine (IDLE, REQUESTED, ACTIVE) as a declarative table. Each event maps the
// current state to the next one and says whether a pass must be scheduled one delay later.
import { SimError } from '../core/errors.js';

export type ReportingState = 'IDLE' | 'REQUESTED' | 'ACTIVE';
export type ReportingEvent = 'request' | 'passStart' | 'passEnd' | 'budgetExhausted';

type Row = Record<ReportingState, { next: ReportingState; schedule: boolean }>;

export const TRANSITIONS: Record<ReportingEvent, Row> = {
  // __page_reporting_request: only an IDLE device schedules; a running pass sees REQUESTED at its end.
  request: {
    IDLE: { next: 'REQUESTED', schedule: true },
    REQUESTED: { next: 'REQUESTED', schedule: false },
    ACTIVE: { next: 'REQUESTED', schedule: false },
  },
  passStart: {
    IDLE: { next: 'ACTIVE', schedule: false },
    REQUESTED: { next: 'ACTIVE', schedule: false },
    ACTIVE: { next: 'ACTIVE', schedule: false },
  },
  // cmpxchg(ACTIVE -> IDLE); if someone asked meanwhile, run again one delay later.
  passEnd: {
    IDLE: { next: 'IDLE', schedule: false },
    REQUESTED: { next: 'REQUESTED', schedule: true },
    ACTIVE: { next: 'IDLE', schedule: false },
  },
  // A list's budget ran out: ask for another pass (picked up at passEnd).
  budgetExhausted: {
    IDLE: { next: 'REQUESTED', schedule: false },
    REQUESTED: { next: 'REQUESTED', schedule: false },
    ACTIVE: { next: 'REQUESTED', schedule: false },
  },
};

export function transition(state: ReportingState, event: ReportingEvent): { next: ReportingState; schedule: boolean } {
  const t = Object.hasOwn(TRANSITIONS, event) && Object.hasOwn(TRANSITIONS[event], state) ? TRANSITIONS[event][state] : undefined;
  if (!t) throw new SimError('BAD_ARGUMENT', `transition: no state '${String(state)}' or event '${String(event)}'`, { state, event });
  return t;
}
