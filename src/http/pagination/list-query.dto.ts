import { IsOptional, IsString, Matches } from 'class-validator';

/** §0.7 ListQuery; extend it with an endpoint's own filters. Values stay strings until parsed. */
export class ListQueryDto {
  @IsOptional()
  // §0.2: integers are plain digit strings (leading zeros allowed); §0.10: 1..500.
  @Matches(/^0*(?:[1-9]|[1-9][0-9]|[1-4][0-9]{2}|500)$/, { message: 'limit must be an integer between 1 and 500' })
  limit?: string;

  @IsOptional()
  // Format errors are reported by decodeCursor with reason "invalid_cursor" (§0.10).
  @IsString()
  cursor?: string;
}
