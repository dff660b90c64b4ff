// The most heap Leiden with the configuration $config may take on the GDS graph $name.
CALL gds.leiden.stream.estimate($name, $config)
YIELD bytesMax
RETURN bytesMax AS bytes
