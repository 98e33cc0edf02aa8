/** The fault table's database rows (short form): the notification database down, then auth's. */
import { describeChaosRows } from './chaos-rows.js';

describeChaosRows('databases', 'chaos: a service database down under load');
