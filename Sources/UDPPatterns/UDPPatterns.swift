// The sans-I/O patterns; see issue 4.
