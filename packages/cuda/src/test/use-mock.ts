/**
 * Imported first by this package's tests: the mock driver for this process and the actors it
 * starts (the tests run on machines without a GPU; see README, "Testing without a GPU").
 */
import { useMockDriver } from '../testing';

useMockDriver();
