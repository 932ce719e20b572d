"""Training data: simulator episodes to rosbags, labelled samples, the dataset index and Dataset."""
