/** The fault table's broker rows (short form): restarted, killed, down for a while. */
import { describeChaosRows } from './chaos-rows.js';

describeChaosRows('broker', 'chaos: the broker restarted, killed and down under load');
