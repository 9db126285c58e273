"""The no-TFQ lane skips only what needs TensorFlow Quantum itself, and says which tests those are.

``TFQ_TESTS`` names every test function with a ``tfq``-marked case (the ``"tfq"`` parameter of the
``backend`` fixture, or ``@pytest.mark.tfq``). Where TFQ is absent (``make test-313``) exactly
these skip; a new test that needs TFQ must be added here by name, so the lane's skip list stays
small and reviewed. The collection is this session's own when it ran the whole suite, otherwise a
``pytest --collect-only -m tfq`` of ``tests/`` in a fresh process (about a minute).
"""

import glob
import os
import subprocess
import sys

import conftest

#: tests/, where the test modules are, in subdirectories by package area.
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Every test function that has a case needing TFQ (file::function).
TFQ_TESTS = (
    "backends/test_backends.py::test_every_operation_on_a_batch_of_different_circuits_matches_cirq",
    "backends/test_backends.py::test_many_different_circuits_run_as_data_without_tracing_per_circuit",
    "backends/test_backends.py::test_tfq_runs_here_where_it_is_installed",
    "backends/test_backends.py::test_the_tfq_backend_checks_its_gate_set_at_construction",
    "backends/test_batch_buckets.py::test_quantum_data_outputs_equal_before_and_after_caching_and_bad_data_refused",
    "backends/test_statevector_quantum_data.py::test_agrees_with_the_tfq_backend",
    "benchmarks/test_benchmarks.py::test_check_agree_refuses_a_contender_that_computes_something_else",
    "benchmarks/test_benchmarks.py::test_contenders_agree_with_finite_differences",
    "benchmarks/test_benchmarks.py::test_contenders_agree_with_the_raw_tfq_op",
    "benchmarks/test_benchmarks.py::test_fit_comparison_runs_each_backend",
    "benchmarks/test_benchmarks.py::test_fit_throughput_covers_each_backend_and_steps_per_execution",
    "benchmarks/test_benchmarks.py::test_time_interleaved_reports_every_contender",
    "circuits/test_circuits.py::test_tfq_accepts_every_builder",
    "compat/test_compat_layers.py::test_a_data_symbol_shared_with_a_model_weight_is_refused_not_merged",
    "compat/test_compat_layers.py::test_controller_trains_in_fit_and_round_trips_exactly",
    "compat/test_compat_layers.py::test_every_layer_round_trips_through_keras_files_and_export",
    "compat/test_compat_layers.py::test_expectation_gradients_match_finite_differences",
    "compat/test_compat_layers.py::test_keras_contract_of_the_high_level_layers_and_add_circuit",
    "compat/test_compat_layers.py::test_keras_layer_contract",
    "compat/test_compat_layers.py::test_keras_layer_contract_with_quantum_data",
    "compat/test_compat_layers.py::test_noisy_quantum_data_into_a_noiseless_layer_is_a_clear_error_and_works_when_noisy",
    "compat/test_compat_layers.py::test_random_expression_circuits_match_cirq",
    "compat/test_compat_layers.py::test_repeated_eager_calls_follow_circuits_and_names_changed_in_place",
    "compat/test_compat_layers.py::test_user_written_differentiator_is_accepted_and_saving_says_to_register_it",
    "compat/test_compat_layers.py::test_weightless_layers_are_built_at_instantiation",
    "compat/test_compat_operator_tensors.py::test_expectation_tensor_equals_list_and_cirq",
    "compat/test_compat_operator_tensors.py::test_keras_model_with_a_tensor_of_operators",
    "compat/test_compat_operator_tensors.py::test_one_circuit_takes_one_operator_row_per_value_row",
    "compat/test_compat_operator_tensors.py::test_one_circuit_without_values_takes_one_operator_row",
    "compat/test_compat_operator_tensors.py::test_operators_as_a_model_input_are_checked_in_the_graph",
    "compat/test_compat_operator_tensors.py::test_operators_as_a_model_input_match_cirq_and_the_list",
    "compat/test_compat_operator_tensors.py::test_operators_as_a_tf_function_argument_with_one_circuit",
    "compat/test_compat_operator_tensors.py::test_operators_input_with_known_circuits_names_foreign_qubits",
    "compat/test_compat_operator_tensors.py::test_sampled_expectation_tensor_within_shot_noise_of_cirq",
    "compat/test_compat_operator_tensors.py::test_tfq_itself_gives_the_same_numbers",
    "compat/test_compat_operator_tensors.py::test_tfq_simple_op_input_form_trains",
    "compat/test_compat_tfq.py::test_add_circuit_matches_tfq",
    "compat/test_compat_tfq.py::test_default_backend_reads_string_tensors_like_tfq",
    "compat/test_compat_tfq.py::test_expectation_matches_tfq_for_circuit_list_and_tensor_inputs",
    "compat/test_compat_tfq.py::test_high_level_layers_match_tfq",
    "compat/test_compat_tfq.py::test_noisy_layers_within_trajectory_noise_of_tfq_and_the_density_matrix",
    "compat/test_compat_tfq.py::test_sample_matches_tfq_bits_dtype_and_raggedness",
    "compat/test_compat_tfq.py::test_sample_of_mixed_size_tensor_is_ragged_like_tfq",
    "compat/test_compat_tfq.py::test_sampled_expectation_within_shot_noise_of_tfq",
    "compat/test_compat_tfq.py::test_state_and_unitary_match_tfq",
    "compat/test_compat_tfq_behaviour.py::test_ops_and_math_match_cirq_and_differentiate",
    "compat/test_compat_tfq_behaviour.py::test_pqc_after_construction_and_widths_as_tfq",
    "compat/test_compat_tfq_behaviour.py::test_repetitions_as_a_model_input",
    "compat/test_compat_tfq_behaviour.py::test_same_calls_raise_with_tfq_class_and_phrase",
    "compat/test_compat_tfq_behaviour.py::test_state_and_unitary_of_mixed_circuits_are_each_on_their_own_qubits",
    "compat/test_compat_tfq_behaviour.py::test_user_differentiator_with_gradient_circuits",
    "compat/test_compat_wire.py::test_add_circuit_matches_tfq_append",
    "compat/test_compat_wire.py::test_bytes_equal_tfq",
    "compat/test_compat_wire.py::test_interchangeable_with_tfq_both_ways",
    "compat/test_compat_wire.py::test_tfq_expectation_op_runs_our_bytes",
    "compile/test_bounded_expressions.py::test_nan_weight_raises_naming_the_weight_and_the_labels",
    "compile/test_bounded_expressions.py::test_non_finite_constant_angles_are_refused_when_the_layer_is_built",
    "compile/test_bounded_expressions.py::test_overflowing_expression_raises_naming_the_gate",
    "docs/test_notebooks.py::test_notebook_executes",
    "errors/test_bad_input_catalogue.py::test_bad_input_is_refused_with_a_fix",
    "errors/test_bad_input_surfaces.py::test_bad_input_is_refused_with_a_fix",
    "errors/test_bad_input_surfaces.py::test_noisy_born_machine_with_trajectories_matches_the_density_matrix",
    "errors/test_bad_input_surfaces.py::test_quantum_data_inside_the_register_matches_cirq",
    "errors/test_bad_input_surfaces.py::test_to_statevector_rebuilds_pqc_probabilities_as_itself",
    "errors/test_early_errors.py::test_bad_quantum_data_is_caught_in_graph_runs_too",
    "errors/test_early_errors.py::test_empty_and_symbol_free_quantum_data_pass_the_checks",
    "errors/test_pqc_errors.py::test_auto_backend_needs_tfq_gates_for_quantum_data",
    "errors/test_pqc_errors.py::test_tfq_backend_refuses_at_construction",
    "generative/test_born.py::test_bad_data_and_arguments",
    "generative/test_born.py::test_fit_learns_bars_and_stripes_2x2",
    "generative/test_born.py::test_loss_gradient_matches_finite_differences",
    "generative/test_born.py::test_probabilities_match_cirq",
    "generative/test_born.py::test_samples_follow_probabilities_chi_square",
    "generative/test_born.py::test_save_and_load_give_identical_probabilities",
    "generative/test_born.py::test_shot_based_mmd_gradient_estimates_the_exact_gradient",
    "generative/test_born.py::test_shot_training_lowers_mmd",
    "generative/test_born.py::test_tfq_shots_need_parameter_shift_gates",
    "generative/test_born.py::test_user_circuit_with_expressions",
    "generative/test_qhbm.py::test_density_matrix_and_entropy_match_cirq",
    "generative/test_qhbm.py::test_free_energy_and_its_gradients_by_finite_differences",
    "generative/test_qhbm.py::test_qmhl_on_a_backend_without_state_gradients_says_so",
    "layers/test_mixed_precision.py::test_dense_pqc_dense_fits_under_mixed_precision",
    "layers/test_mixed_precision.py::test_keras_mixed_precision_check_passes",
    "layers/test_outputs.py::test_keras_layer_contract",
    "layers/test_outputs.py::test_outputs_match_cirq",
    "layers/test_outputs.py::test_probability_gradients_match_finite_differences",
    "layers/test_outputs.py::test_samples_follow_the_born_rule",
    "layers/test_pqc.py::test_gradients_match_finite_differences",
    "layers/test_pqc.py::test_random_circuits_match_cirq",
    "layers/test_pqc.py::test_sampled_expectations_are_unbiased_and_differentiable",
    "saving/test_export_portable.py::test_tfq_model_converts_and_serves_without_tfq",
    "saving/test_tflite.py::test_tfq_backend_model_is_rebuilt_on_statevector",
    "zoo/test_zoo.py::test_digits_data_encoding_and_qnn_match_cirq",
    "zoo/test_zoo.py::test_digits_quick_training_lowers_hinge_loss",
)

#: At most this many test cases (parametrized ids) carry the mark.
MAX_TFQ_CASES = 133


def _test_modules():
    """Every test module under tests/, as absolute paths."""
    return sorted(glob.glob(os.path.join(TESTS, "**", "test_*.py"), recursive=True))


def _tfq_cases(session):
    items = list(session.items) + conftest.DESELECTED  # deselected by -m "not slow" count too
    files = {str(item.path) for item in items}
    everything = set(_test_modules())
    if everything <= files:  # this session collected the whole suite
        return [item.nodeid for item in items if item.get_closest_marker("tfq")]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--collect-only",
            "-m",
            "tfq",
            "-p",
            "no:cacheprovider",
        ],
        cwd=os.path.dirname(TESTS),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_tfq_marked_tests_are_the_named_ones(request):
    cases = _tfq_cases(request.session)
    functions = sorted({case.split("[", 1)[0].removeprefix("tests/") for case in cases})
    assert functions == sorted(TFQ_TESTS), (
        "tests with a tfq-marked case changed; update TFQ_TESTS in tests/packaging/test_no_tfq_lane.py:\n"
        + "\n".join(f"    {f!r}," for f in functions)
    )
    assert len(cases) <= MAX_TFQ_CASES, len(cases)


def test_tfq_is_skipped_only_through_the_marker():
    """No test skips itself for TFQ's absence outside the marker (``pytest.importorskip(
    "tensorflow_quantum")``, a ``skipif`` on ``HAVE_TFQ``): the marker is the one way, so the
    list above is the whole list."""
    import re

    offenders = []
    for path in _test_modules():
        if path == os.path.abspath(__file__):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if re.search(
            r"importorskip\(\s*[\"']tensorflow_quantum|skipif\(\s*not\s+(conftest\.)?HAVE_TFQ", text
        ):
            offenders.append(os.path.relpath(path, TESTS))
    assert offenders == [], offenders
