import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ListQueryDto } from '../../../src/http/pagination/list-query.dto';
import { ProbeNoteColor } from './probe-note.decider';

export class NoteIdParam {
  @Matches(/^note_[0-9A-HJKMNP-TV-Z]{26}$/, { message: 'noteId must be note_ followed by a ULID' })
  noteId!: string;
}

/** A typed nested object: unknown members are rejected here too (§0.2). */
export class ProbeNoteMetaDto {
  @IsIn(['red', 'blue'])
  color!: ProbeNoteColor;
}

export class CreateProbeNoteDto {
  @IsString()
  @Length(1, 100)
  title!: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @IsString({ each: true })
  tags?: string[];

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ProbeNoteMetaDto)
  meta?: ProbeNoteMetaDto;
}

export class RenameProbeNoteDto {
  @IsString()
  @Length(1, 100)
  title!: string;
}

export class ListProbeNotesQuery extends ListQueryDto {
  @IsOptional()
  @IsString()
  @Length(1, 100)
  titlePrefix?: string;
}

export class SlowProbeDto {
  @IsInt()
  @Min(0)
  @Max(5000)
  ms!: number;
}

/** The body of the stand-in agent endpoint: the machine it acts on and, optionally, a pairing. */
export class ProbeAgentActionDto {
  @IsString()
  machineId!: string;

  @IsOptional()
  @IsString()
  agentPairingId?: string;
}
