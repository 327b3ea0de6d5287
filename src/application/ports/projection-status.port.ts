import { Position } from './event-store.port';

export type ProjectionState = 'starting' | 'running' | 'rebuilding' | 'failed' | 'stopped';

export type ProjectionStatus = {
  name: string;
  version: number;
  state: ProjectionState;
  position: Position | null;
  lastOccurredAt: string | null;
  error: string | null;
};

export interface ProjectionStatusSource {
  status(): ProjectionStatus[];
}
export const PROJECTION_STATUS = Symbol('ProjectionStatusSource');
