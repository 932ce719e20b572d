"""ament_python package `vla_driving`; also installable with pip (see README)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "vla_driving"
TORCH = "torch==2.13.0"
ROS = [
    "ros-kilted-rclpy[fastrtps]",
    "ros-kilted-std-msgs",
    "ros-kilted-sensor-msgs",
    "ros-kilted-geometry-msgs",
    "ros-kilted-nav-msgs",
    "ros-kilted-visualization-msgs",
    "ros-kilted-diagnostic-msgs",
]
# Generators, CMake modules and their Python tools that build the message packages in
# interfaces/ (ackermann_msgs, carla_msgs, Autoware's) into the venv: `make install` runs
# interfaces/build.py. Several of these are missing from the metadata of the others.
INTERFACES = [
    "ros-kilted-rosidl-default-generators",
    "ros-kilted-rosidl-core-generators",
    "ros-kilted-ament-cmake",
    "ros-kilted-ament-cmake-include-directories",
    "ros-kilted-ament-cmake-ros-core",
    "ros-kilted-ament-package",
    "catkin_pkg",
]
# panda3d: the perspective cameras (vla_driving.sim.perspective), offscreen EGL on Mesa.
SIM = ["highway-env==1.12.1", "pygame-ce", "panda3d==1.10.16"]
RUNTIME = [
    "numpy>=1.24",
    "pyyaml>=6",
    "pillow>=10",
    "tqdm>=4.60",
    "rosbags>=0.10",
    "mcap>=1.1",  # salvaging MCAP bags cut short (vla_driving.data.salvage)
    "onnxruntime>=1.17",
    "safetensors>=0.4",
    "tokenizers>=0.19",
    "transformers>=4.45",
]

# training/ is installed as `vla_driving_training`, never as a top-level `training` package.
training_packages = ["vla_driving_training"] + [
    "vla_driving_training." + p for p in find_packages("training")
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=[PACKAGE, PACKAGE + ".*"]) + training_packages,
    package_dir={"vla_driving_training": "training"},
    package_data={PACKAGE: ["py.typed"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + PACKAGE]),
        ("share/" + PACKAGE, ["package.xml"]),
        ("share/" + PACKAGE + "/launch", glob("launch/*.launch.py")),
        ("share/" + PACKAGE + "/config", glob("config/*.yaml") + glob("config/*.xml")),
        ("share/" + PACKAGE + "/models/default", glob("models/default/*.*")),
        ("share/" + PACKAGE + "/models/default/llm", glob("models/default/llm/*")),
    ],
    python_requires=">=3.10",
    install_requires=RUNTIME,
    extras_require={
        "torch": [TORCH],
        "ros": ROS,
        "interfaces": ROS + INTERFACES,
        "sim": SIM,
        # 7.6.0: the newest GPTQModel whose requirements accept torch 2.13 (7.7 needs >= 2.14.1).
        "gptq": ["gptqmodel==7.6.0"],
        # 10 and 11 (11 builds strongly typed: fp16 / int8 need an fp16 / Q/DQ ONNX).
        "tensorrt": ["tensorrt>=10,<12"],
        "train": [TORCH, "accelerate>=0.30", "onnx>=1.15", "onnxscript>=0.5", "matplotlib>=3.7"] + SIM,
        "eval": ["matplotlib>=3.7", "mcap>=1.1", "pycocoevalcap>=1.2", "av>=12"],
        # route sweeps, rollouts and data generation as Ray tasks (local or a cluster)
        "scale": ["ray>=2.40,<3"],
        "dev": ["pytest>=7", "pytest-timeout", "import-linter>=2.1", "hypothesis>=6"],
    },
    zip_safe=True,
    maintainer="vla_driving maintainers",
    maintainer_email="maintainers@vla-driving.invalid",
    description="Vision-language-action driving models on ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "vla-driving = vla_driving.apps.cli:main",
            "vla-train = vla_driving_training.cli:main",
            # ROS 2 node executables (`ros2 run vla_driving <name>`, used by launch/).
            "camera_ingest = vla_driving.ros.ingest_node:main",
            "vla_planner = vla_driving.ros.planner_node:main",
            "trajectory_controller = vla_driving.ros.controller_node:main",
            "sim_bridge = vla_driving.ros.sim_bridge_node:main",
        ],
    },
)
