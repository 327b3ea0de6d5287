import { Actor } from '../../domain/shared/actor';

/** Who asks, and under which correlation id (§0.13): stamped on every event the command appends. */
export type CommandContext = {
  correlationId: string;
  causationId?: string | null;
  actor: Actor;
};
