import { IsString } from 'class-validator';

/** §4.1 `CreateMachineIdentityChallengeRequest`; the form of `identityRef` (§4.2) is checked by the handler. */
export class CreateMachineIdentityChallengeDto {
  @IsString()
  identityRef!: string;
}
