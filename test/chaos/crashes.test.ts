/** The fault table's crash rows (short form): kill -9 of each service, and of one of two notification replicas. */
import { describeChaosRows } from './chaos-rows.js';

describeChaosRows('crashes', 'chaos: each service killed (kill -9) under load');
