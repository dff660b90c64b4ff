// Heap the GDS memory guard can still hand out (compared with the projection's estimate before projecting).
CALL gds.debug.sysInfo() YIELD key, value
WITH key, value WHERE key = 'availableHeapInBytes'
RETURN value AS bytes
