// A generated app with a bug: every request throws.
import { DurableObject } from 'cloudflare:workers';

export class App extends DurableObject {
  fetch() {
    throw new Error('this generated app is broken');
  }
}
