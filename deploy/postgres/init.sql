-- One database per service (each owns its data), plus Temporal's two.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
CREATE DATABASE warehouse;
CREATE DATABASE kitchen;
CREATE DATABASE customercenter;
CREATE DATABASE cafe;
