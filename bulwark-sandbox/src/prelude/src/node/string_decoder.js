// node:string_decoder: the npm `string_decoder` package (Node's own, MIT).
import { StringDecoder } from 'string_decoder';

export function stringDecoderModule() {
  return { default: { StringDecoder }, StringDecoder };
}
